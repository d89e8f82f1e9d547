/*
 * client_identity.c - the node's sync identity in DIR/sync.json (mode 0600):
 * hub URL and pin, node id, office, Local Area and the node secret.
 */
#include "sync/client_int.h"
#include "lib/crypto.h"
#include "lib/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>


void sync_identity_wipe(sync_identity *id)
{
	crypto_wipe(id->id_secret, sizeof id->id_secret);
	crypto_wipe(id->id_la_key, sizeof id->id_la_key);
	id->id_has_la_key = 0;
}

int sync__copy_member(const cJSON *o, const char *name, char *out, size_t n)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsString(v) || v->valuestring == NULL || strlen(v->valuestring) >= n)
		return -1;
	snprintf(out, n, "%s", v->valuestring);
	return 0;
}

int sync__identity_check(const sync_identity *id, const char **what)
{
	if (strncmp(id->id_hub_url, "https://", 8) != 0 || strlen(id->id_hub_url) < 9 ||
	    strpbrk(id->id_hub_url, " \t\r\n") != NULL)
		*what = "hub_url (an https:// URL)";
	else if (!sync__id_ok(id->id_node_id, sizeof id->id_node_id))
		*what = "node_id";
	else if (strncmp(id->id_pin, "sha256//", 8) != 0 || strlen(id->id_pin) < 16 ||
		 strpbrk(id->id_pin, " \t\r\n;") != NULL)
		*what = "hub_pin (sha256//...)";
	else if (!sync__id_ok(id->id_office_id, sizeof id->id_office_id))
		*what = "office_id";
	else if (!sync__id_ok(id->id_local_area_id, sizeof id->id_local_area_id))
		*what = "local_area_id";
	else
		return 0;
	return -1;
}

int sync_identity_load(const char *data_dir, sync_identity *id, char *err, size_t errlen)
{
	char path[PATH_MAX + 32], *text = NULL;
	struct stat sb;
	cJSON *o = NULL;
	const cJSON *sec;
	const char *what = NULL;
	int fd = -1, ret = SYNC_E_CONFIG;
	ssize_t got;

	memset(id, 0, sizeof *id);
	snprintf(path, sizeof path, "%s/%s", data_dir, SYNC_IDENTITY_FILE);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			fmt_line(err, errlen,
			       "this node is not enrolled (no %s): run outpost-sync enroll --hub URL "
			       "--code CODE",
			       path);
		else
			fmt_line(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > 64 * 1024) {
		fmt_line(err, errlen, "'%s' is not a sync identity file", path);
		goto out;
	}
	if ((sb.st_mode & 077) != 0) {
		/* It holds the node secret: refuse it as ssh refuses a loose key. */
		fmt_line(err, errlen, "'%s' is readable by other users (mode %03o): chmod 600 it",
		       path, (unsigned)(sb.st_mode & 0777));
		goto out;
	}
	text = calloc(1, (size_t)sb.st_size + 1);
	if (text == NULL) {
		fmt_line(err, errlen, "out of memory reading '%s'", path);
		goto out;
	}
	got = read(fd, text, (size_t)sb.st_size);
	if (got != (ssize_t)sb.st_size) {
		fmt_line(err, errlen, "cannot read '%s'", path);
		goto out;
	}
	o = cJSON_Parse(text);
	if (!cJSON_IsObject(o)) {
		fmt_line(err, errlen, "'%s' is not valid JSON", path);
		goto out;
	}
	sec = cJSON_GetObjectItemCaseSensitive(o, "node_secret");
	if (sync__copy_member(o, "hub_url", id->id_hub_url, sizeof id->id_hub_url) != 0 ||
	    sync__copy_member(o, "node_id", id->id_node_id, sizeof id->id_node_id) != 0 ||
	    sync__copy_member(o, "hub_pin", id->id_pin, sizeof id->id_pin) != 0 ||
	    sync__copy_member(o, "office_id", id->id_office_id, sizeof id->id_office_id) != 0 ||
	    sync__copy_member(o, "local_area_id", id->id_local_area_id, sizeof id->id_local_area_id) != 0) {
		fmt_line(err, errlen, "'%s' lacks a member (hub_url, node_id, hub_pin, office_id, "
				    "local_area_id): enroll again",
		       path);
		goto out;
	}
	if (!cJSON_IsString(sec) || sec->valuestring == NULL ||
	    crypto_unhex(sec->valuestring, id->id_secret, sizeof id->id_secret) != 0) {
		fmt_line(err, errlen, "'%s' has no valid node_secret (64 hex digits): enroll again",
		       path);
		goto out;
	}
	if (sync__identity_check(id, &what) != 0) {
		fmt_line(err, errlen, "'%s' has an invalid %s: enroll again", path, what);
		goto out;
	}
	sec = cJSON_GetObjectItemCaseSensitive(o, "la_key"); /* optional (hub/hub_keys.c) */
	id->id_has_la_key = cJSON_IsString(sec) && sec->valuestring &&
			    crypto_unhex(sec->valuestring, id->id_la_key, sizeof id->id_la_key) == 0;
	ret = 0;
out:
	if (o) {
		cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "la_key");
		if (cJSON_IsString(k) && k->valuestring)
			crypto_wipe(k->valuestring, strlen(k->valuestring));
	}
	sync__json_wipe_free(o, "node_secret"); /* a secret: scrubbed first */
	if (text) {
		memset(text, 0, (size_t)sb.st_size);
		free(text);
	}
	if (fd >= 0)
		close(fd);
	if (ret != 0)
		sync_identity_wipe(id);
	return ret;
}

int sync_identity_same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

int sync_identity_save(const char *data_dir, const sync_identity *id, char *err, size_t errlen)
{
	return sync_identity_update(data_dir, id, NULL, NULL, err, errlen);
}

/*
 * Every writer of sync.json holds an exclusive flock(2) on DIR itself (no
 * lock file to leave behind) from its check to its rename: the running
 * node adding the Local Area key to the identity it loaded, and
 * `outpost-sync enroll` writing a new one, never interleave, so neither
 * write is lost.
 */
int sync_identity_update(const char *data_dir, const sync_identity *id, const struct stat *loaded,
			 struct stat *now, char *err, size_t errlen)
{
	char path[PATH_MAX + 32], tmp[PATH_MAX + 64], sec[2 * SYNC_SECRET_LEN + 1], lak[65];
	cJSON *o = NULL;
	char *text = NULL;
	const char *what = NULL;
	struct stat sb;
	size_t len;
	int fd = -1, dirfd = -1, ret = SYNC_E_CONFIG;

	if (sync__identity_check(id, &what) != 0) {
		fmt_line(err, errlen, "refusing to save an identity with an invalid %s", what);
		return SYNC_E_CONFIG;
	}
	snprintf(path, sizeof path, "%s/%s", data_dir, SYNC_IDENTITY_FILE);
	dirfd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		fmt_line(err, errlen, "cannot open '%s': %s", data_dir, strerror(errno));
		return SYNC_E_CONFIG;
	}
	while (flock(dirfd, LOCK_EX) != 0 && errno == EINTR)
		;
	/* (a file system without locks, ENOLCK: the check below still holds) */
	if (loaded != NULL && (stat(path, &sb) != 0 || !sync_identity_same_file(&sb, loaded))) {
		fmt_line(err, errlen, "'%s' changed since it was read", path);
		close(dirfd); /* (the lock goes with it) */
		return 1;
	}
	snprintf(tmp, sizeof tmp, "%s/.%s.%ld.tmp", data_dir, SYNC_IDENTITY_FILE, (long)getpid());
	crypto_hex(id->id_secret, sizeof id->id_secret, sec);
	o = cJSON_CreateObject();
	if (o == NULL || !cJSON_AddStringToObject(o, "hub_url", id->id_hub_url) ||
	    !cJSON_AddStringToObject(o, "node_id", id->id_node_id) ||
	    !cJSON_AddStringToObject(o, "node_secret", sec) ||
	    !cJSON_AddStringToObject(o, "hub_pin", id->id_pin) ||
	    !cJSON_AddStringToObject(o, "office_id", id->id_office_id) ||
	    !cJSON_AddStringToObject(o, "local_area_id", id->id_local_area_id) ||
	    (id->id_has_la_key && (crypto_hex(id->id_la_key, sizeof id->id_la_key, lak),
				   !cJSON_AddStringToObject(o, "la_key", lak))) ||
	    (text = cJSON_Print(o)) == NULL) {
		fmt_line(err, errlen, "out of memory");
		goto out;
	}
	len = strlen(text);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		fmt_line(err, errlen, "cannot create '%s': %s", tmp, strerror(errno));
		goto out;
	}
	if (fchmod(fd, 0600) != 0 || write(fd, text, len) != (ssize_t)len ||
	    write(fd, "\n", 1) != 1 || fsync(fd) != 0) {
		fmt_line(err, errlen, "cannot write '%s': %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		fmt_line(err, errlen, "cannot write '%s': %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		fmt_line(err, errlen, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
		goto out;
	}
	/* The rename itself must survive a power cut. */
	fsync(dirfd);
	if (now != NULL && stat(path, now) != 0)
		memset(now, 0, sizeof *now);
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	close(dirfd); /* (the lock goes with it) */
	if (ret != 0)
		unlink(tmp);
	if (o) {
		cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "la_key");
		if (cJSON_IsString(k) && k->valuestring)
			crypto_wipe(k->valuestring, strlen(k->valuestring));
	}
	sync__json_wipe_free(o, "node_secret"); /* a secret: scrubbed first */
	sync__text_wipe_free(text);
	memset(sec, 0, sizeof sec);
	crypto_wipe(lak, sizeof lak);
	return ret;
}
