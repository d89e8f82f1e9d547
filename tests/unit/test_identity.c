/*
 * test_identity.c - DIR/sync.json written by two processes: the running
 * node adds the Local Area key to the identity it loaded
 * (sync_identity_update), while `outpost-sync enroll` may write a new one
 * (sync_identity_save).  Neither write may be lost.
 *
 * Covered: a save and a load round trip (mode 0600, the key kept); the
 * node's update refused (1) once the file changed since it was read, the
 * newer identity left whole; allowed (0) while unchanged, reporting the new
 * file's stat; and the two writers serialised: an enroll that holds the
 * directory's lock while the node checks makes the node's check see its
 * write (a check made before the lock was taken would have passed, and the
 * rename would have put the old identity back: the flake seen in
 * test_faults.ProxyTest, whose rewritten hub URL the node overwrote).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sync/client.h"
#include "testutil.h"

static void identity(sync_identity *id, const char *url)
{
	memset(id, 0, sizeof *id);
	snprintf(id->id_hub_url, sizeof id->id_hub_url, "%s", url);
	snprintf(id->id_node_id, sizeof id->id_node_id, "node-1");
	memset(id->id_secret, 0x5a, sizeof id->id_secret);
	snprintf(id->id_pin, sizeof id->id_pin, "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	snprintf(id->id_office_id, sizeof id->id_office_id, "office-1");
	snprintf(id->id_local_area_id, sizeof id->id_local_area_id, "la-1");
}

/* DIR/sync.json reads back with this hub URL and this key (NULL: none). */
static void assert_on_disk(const char *dir, const char *url, const unsigned char *la_key)
{
	sync_identity got;
	char err[256];

	assert_int_equal(sync_identity_load(dir, &got, err, sizeof err), 0);
	assert_string_equal(got.id_hub_url, url);
	if (la_key == NULL) {
		assert_false(got.id_has_la_key);
		return;
	}
	assert_true(got.id_has_la_key);
	assert_memory_equal(got.id_la_key, la_key, sizeof got.id_la_key);
}

static void stat_of(const char *dir, struct stat *sb)
{
	char path[512];

	snprintf(path, sizeof path, "%s/%s", dir, SYNC_IDENTITY_FILE);
	assert_int_equal(stat(path, sb), 0);
}

static void test_round_trip(void **state)
{
	char *dir = tu_tmpdir("identity");
	sync_identity a, got;
	struct stat sb;
	char err[256];

	(void)state;
	identity(&a, "https://hub.example:8443");
	a.id_has_la_key = 1;
	memset(a.id_la_key, 0x11, sizeof a.id_la_key);
	assert_int_equal(sync_identity_save(dir, &a, err, sizeof err), 0);
	stat_of(dir, &sb);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_on_disk(dir, a.id_hub_url, a.id_la_key);
	assert_int_equal(sync_identity_load(dir, &got, err, sizeof err), 0);
	assert_memory_equal(got.id_secret, a.id_secret, sizeof a.id_secret);
	tu_rmtree(dir);
	free(dir);
}

static void test_update_only_what_was_read(void **state)
{
	char *dir = tu_tmpdir("identity");
	sync_identity old, fresh;
	struct stat loaded, now, after;
	char err[256];

	(void)state;
	identity(&old, "https://hub.example:8443");
	assert_int_equal(sync_identity_save(dir, &old, err, sizeof err), 0);
	stat_of(dir, &loaded); /* the node reads it */
	/* An enroll writes a new identity (another hub URL). */
	identity(&fresh, "https://127.0.0.1:9999");
	assert_int_equal(sync_identity_save(dir, &fresh, err, sizeof err), 0);
	/* The node adds the key to what it read: refused, nothing written. */
	old.id_has_la_key = 1;
	memset(old.id_la_key, 0x22, sizeof old.id_la_key);
	assert_int_equal(sync_identity_update(dir, &old, &loaded, &now, err, sizeof err), 1);
	assert_non_null(strstr(err, "changed since it was read"));
	assert_on_disk(dir, "https://127.0.0.1:9999", NULL);
	/* Read again, the update goes through and says what it wrote. */
	stat_of(dir, &loaded);
	fresh.id_has_la_key = 1;
	memset(fresh.id_la_key, 0x33, sizeof fresh.id_la_key);
	assert_int_equal(sync_identity_update(dir, &fresh, &loaded, &now, err, sizeof err), 0);
	stat_of(dir, &after);
	assert_true(sync_identity_same_file(&now, &after));
	assert_false(sync_identity_same_file(&loaded, &after));
	assert_on_disk(dir, "https://127.0.0.1:9999", fresh.id_la_key);
	tu_rmtree(dir);
	free(dir);
}

static void test_writers_serialised(void **state)
{
	char *dir = tu_tmpdir("identity");
	sync_identity old;
	struct stat loaded;
	char err[256], c;
	int ready[2], status;
	pid_t pid;

	(void)state;
	tu_watchdog(20);
	identity(&old, "https://hub.example:8443");
	assert_int_equal(sync_identity_save(dir, &old, err, sizeof err), 0);
	stat_of(dir, &loaded);
	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* An enroll caught between taking the lock and its rename:
		 * the node's check starts now and must wait for the write. */
		int fd = open(dir, O_RDONLY | O_DIRECTORY);
		sync_identity fresh;
		char path[512], tmp[512];

		if (fd < 0 || flock(fd, LOCK_EX) != 0)
			_exit(2);
		if (write(ready[1], "x", 1) != 1)
			_exit(2);
		usleep(300 * 1000);
		/* the write an enroll makes, by hand: the lock is this one */
		identity(&fresh, "https://127.0.0.1:9999");
		snprintf(path, sizeof path, "%s/%s", dir, SYNC_IDENTITY_FILE);
		snprintf(tmp, sizeof tmp, "%s/fresh", dir);
		if (mkdir(tmp, 0700) != 0 || sync_identity_save(tmp, &fresh, err, sizeof err) != 0)
			_exit(3);
		snprintf(tmp, sizeof tmp, "%s/fresh/%s", dir, SYNC_IDENTITY_FILE);
		if (rename(tmp, path) != 0)
			_exit(4);
		_exit(0); /* the lock goes with the process */
	}
	assert_int_equal(read(ready[0], &c, 1), 1);
	old.id_has_la_key = 1;
	assert_int_equal(sync_identity_update(dir, &old, &loaded, NULL, err, sizeof err), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_on_disk(dir, "https://127.0.0.1:9999", NULL);
	close(ready[0]);
	close(ready[1]);
	tu_watchdog(0);
	tu_rmtree(dir);
	free(dir);
}

TU_MAIN(cmocka_unit_test(test_round_trip), cmocka_unit_test(test_update_only_what_was_read),
	cmocka_unit_test(test_writers_serialised))
