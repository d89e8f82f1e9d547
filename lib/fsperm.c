/*
 * fsperm.c - private data directories; see fsperm.h.
 */
#include "lib/fsperm.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Files directly in dir: every regular file 0600 (mode bits for others and
 * the group removed).  0, or -1 with err. */
static int tighten_files(const char *dir, char *err, size_t n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;
	int fd, ret = 0;

	if (d == NULL) {
		snprintf(err, n, "cannot read the data directory '%s': %s", dir, strerror(errno));
		return -1;
	}
	fd = dirfd(d);
	while (ret == 0 && (e = readdir(d)) != NULL) {
		if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
		    (st.st_mode & 077) == 0)
			continue;
		if (fchmodat(fd, e->d_name, st.st_mode & 0700, 0) != 0) {
			snprintf(err, n,
				 "'%s/%s' is readable by other users and cannot be made private (%s);"
				 " fix: chmod 600 '%s/%s' as its owner",
				 dir, e->d_name, strerror(errno), dir, e->d_name);
			ret = -1;
		}
	}
	closedir(d);
	return ret;
}

int fs_private_dir(const char *dir, char *err, size_t n)
{
	struct stat st;

	umask(077);
	errno = 0;
	if (stat(dir, &st) != 0) {
		snprintf(err, n, "cannot use the data directory '%s': %s", dir, strerror(errno));
		return -1;
	}
	if ((st.st_mode & 077) != 0 &&
	    (chmod(dir, 0700) != 0 || stat(dir, &st) != 0 || (st.st_mode & 077) != 0)) {
		snprintf(err, n,
			 "the data directory '%s' is open to other users (mode %03o) and cannot be"
			 " made private (%s); fix: chown \"$(id -un)\" '%s' && chmod 700 '%s'",
			 dir, (unsigned)(st.st_mode & 0777),
			 errno ? strerror(errno) : "the file system ignores modes", dir, dir);
		return -1;
	}
	return tighten_files(dir, err, n);
}

int fs_mkdir_p(const char *path)
{
	char tmp[PATH_MAX];

	if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
		return -1;
	return 0;
}
