/*
 * fsperm.h - a daemon's data directory is private (DESIGN.md, "Secrets are
 * not stored beside what they protect"): the process creates files 0600
 * (umask 077), the directory is 0700 and every file in it 0600.
 */
#ifndef OUTPOST_FSPERM_H
#define OUTPOST_FSPERM_H

#include <stddef.h>

/*
 * Set umask 077, then tighten dir (which must exist) to 0700 and the
 * regular files directly in it (databases, WAL, keys, config) to 0600,
 * which migrates a data directory an older version left open.  0, or -1
 * with a one-line message in err that names the fix (the directory belongs
 * to another user, or its file system ignores modes): the caller refuses to
 * start.
 */
int fs_private_dir(const char *dir, char *err, size_t n);
/* Create path and its missing parents, each 0700 (mkdir -p).  0, or -1
 * with errno set (ENAMETOOLONG past PATH_MAX). */
int fs_mkdir_p(const char *path);

#endif
