/*
 * faultvfs.h - a SQLite VFS for the storage-fault tests (test build only:
 * OUTPOST_TEST_HOOKS; elsewhere faultvfs_install() returns -1 and the rest
 * do nothing).  Modelled on SQLite's own crash-test VFS (src/test6.c):
 *
 * Power loss.  It wraps the default VFS and, for the main database and WAL
 * files, remembers what each write or truncation since that file's last
 * xSync replaced.  faultvfs_crash_at(K) makes the K-th such operation (a
 * write, sync or truncate; counted from the call) a power cut: before it
 * runs, every unsynced write of every open file is, at random (seeded),
 * kept, dropped (the old bytes put back) or torn (some of its 512-byte
 * sectors put back), every unsynced truncation kept or undone, and the
 * process ends with _exit(0).  What is left on disk is what a machine that
 * lost power at that instant could hold; a parent process then opens it.
 * SQLite's unix VFS claims powersafe overwrite, so bytes outside a write's
 * own range are never touched.  xSync never reaches the disk (the power
 * cut is simulated; a real fsync would only cost time).
 *
 * Failures.  faultvfs_fail_at(kind, N) makes the N-th operation of kind
 * (counted from the call) fail once: FAULTVFS_WRITE answers
 * SQLITE_IOERR_WRITE, FAULTVFS_SYNC SQLITE_IOERR_FSYNC, FAULTVFS_FULL
 * SQLITE_FULL for that write and every later one until
 * faultvfs_fail_at(FAULTVFS_NONE, 0), FAULTVFS_MALLOC a NULL from SQLite's
 * allocator (sqlite3_config(SQLITE_CONFIG_MALLOC) wrapped).
 *
 * faultvfs_install() must run before SQLite is first used (the allocator
 * can only be replaced then); it makes the VFS the default.  0 or -1.
 * State is process-wide, under one mutex.
 */
#ifndef OUTPOST_FAULTVFS_H
#define OUTPOST_FAULTVFS_H

enum faultvfs_kind {
	FAULTVFS_NONE,
	FAULTVFS_WRITE,
	FAULTVFS_SYNC,
	FAULTVFS_FULL,
	FAULTVFS_MALLOC,
};

int faultvfs_install(void);
void faultvfs_crash_at(long op, unsigned seed);
void faultvfs_fail_at(enum faultvfs_kind kind, long n);
/* Operations (writes, syncs, truncations of tracked files) since the last
 * faultvfs_crash_at(); allocations since the last faultvfs_fail_at(). */
long faultvfs_ops(void);
long faultvfs_mallocs(void);
/* 1 once the armed failure has fired. */
int faultvfs_fired(void);

/*
 * A running daemon's faults (test build; node/main.c and hub/main.c call it
 * when OUTPOST_TEST_HOOKS_IOFAULT_FILE names a file, after
 * faultvfs_install()).  The file holds words "write=N", "sync=N",
 * "malloc=N" (N 0 or absent: off): every N-th operation of that kind fails
 * as faultvfs_fail_at() would fail it, counted from when the file last
 * changed.  It is read again when its size or time changes (looked at, at
 * most, every 20 ms), and no file is no faults, so a test arms and disarms
 * the faults of a live daemon by writing and removing it.  0 or -1.
 */
int faultvfs_every_file(const char *path);
/* A daemon's start (before SQLite's first use): in the test build, when
 * OUTPOST_TEST_HOOKS_IOFAULT_FILE is set, faultvfs_install() and
 * faultvfs_every_file() of it.  0 (also when unset, and always in other
 * builds, which read no environment variable), -1 when it cannot. */
int faultvfs_from_env(void);
/* fdatasync(fd) for a database file synced outside SQLite (the node's
 * group commit, node_commit.c): in the test build an armed SYNC failure
 * (faultvfs_fail_at or the file) answers -1 with errno EIO instead.  The
 * crash mode does not see it. */
int faultvfs_fdatasync(int fd);

#endif
