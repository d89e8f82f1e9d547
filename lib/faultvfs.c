/*
 * faultvfs.c - power loss and I/O failures for the storage-fault tests;
 * see faultvfs.h.  Compiled into every build; without OUTPOST_TEST_HOOKS it
 * holds only stubs.
 */
#include "faultvfs.h"

#ifdef OUTPOST_TEST_HOOKS
#include "db.h"
#include "locked.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* What one unsynced write or truncation replaced. */
typedef struct fv_undo {
	struct fv_undo *next; /* older */
	sqlite3_int64 off;
	int len;
	int is_trunc; /* a truncation: off is the old size, data what was cut */
	unsigned char data[];
} fv_undo;

typedef struct fv_file {
	sqlite3_file base;
	sqlite3_file *real; /* follows this struct */
	int track;          /* main database or WAL */
	fv_undo *undo;      /* newest first */
	struct fv_file *next, *prev;
} fv_file;

static pthread_mutex_t fv_lock = PTHREAD_MUTEX_INITIALIZER;
static sqlite3_vfs fv_vfs, *fv_real;
static fv_file *fv_open_files;
static long fv_ops, fv_crash_op;
static unsigned fv_seed;
static enum faultvfs_kind fv_kind;
static long fv_n, fv_seen, fv_mallocs;
static int fv_fired, fv_full;
static sqlite3_mem_methods fv_mem_real;

static unsigned fv_rand(void)
{
	fv_seed = fv_seed * 1103515245u + 12345u;
	return (fv_seed >> 16) & 0x7fff;
}

static void undo_free(fv_file *f)
{
	while (f->undo) {
		fv_undo *u = f->undo;
		f->undo = u->next;
		free(u);
	}
}

/* The power cut: put back, at random, what the unsynced operations replaced. */
static void power_cut(void)
{
	for (fv_file *f = fv_open_files; f; f = f->next)
		for (fv_undo *u = f->undo; u; u = u->next) {
			unsigned r = fv_rand() % 3;
			sqlite3_file *rf = f->real;

			if (r == 0)
				continue; /* it reached the disk */
			if (u->is_trunc) {
				rf->pMethods->xWrite(rf, u->data, u->len, u->off);
				continue;
			}
			if (r == 1) {
				rf->pMethods->xWrite(rf, u->data, u->len, u->off);
				continue;
			}
			for (int s = 0; s < u->len; s += 512) /* torn */
				if (fv_rand() & 1)
					rf->pMethods->xWrite(rf, u->data + s,
							     u->len - s < 512 ? u->len - s : 512, u->off + s);
		}
	_exit(0);
}

/* Count an operation on a tracked file; the armed one is the power cut. */
static void op_count(void)
{
	if (fv_crash_op > 0 && ++fv_ops == fv_crash_op)
		power_cut();
	else if (fv_crash_op == 0)
		fv_ops++;
}

/* ---- every N-th operation, from a file (faultvfs_every_file) ---------------- */

static char fv_every_path[512];
static long fv_every[FAULTVFS_MALLOC + 1], fv_every_seen[FAULTVFS_MALLOC + 1];
static struct timespec fv_every_looked, fv_every_mtime;
static off_t fv_every_size = -1;

/* Read the file again when it changed (fv_lock held). */
static void every_read(void)
{
	static const char *names[] = {NULL, "write=", "sync=", NULL, "malloc="};
	struct timespec now;
	struct stat sb;
	char text[256] = "";
	int fd;
	ssize_t n;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if ((now.tv_sec - fv_every_looked.tv_sec) * 1000 +
		(now.tv_nsec - fv_every_looked.tv_nsec) / 1000000 < 20)
		return;
	fv_every_looked = now;
	if (stat(fv_every_path, &sb) != 0)
		sb.st_size = -1;
	if (sb.st_size == fv_every_size && (sb.st_size < 0 ||
	    (sb.st_mtim.tv_sec == fv_every_mtime.tv_sec && sb.st_mtim.tv_nsec == fv_every_mtime.tv_nsec)))
		return;
	fv_every_size = sb.st_size;
	fv_every_mtime = sb.st_size < 0 ? (struct timespec){0, 0} : sb.st_mtim;
	if (sb.st_size >= 0 && (fd = open(fv_every_path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, text, sizeof text - 1);
		text[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	for (int k = 0; k <= FAULTVFS_MALLOC; k++) {
		const char *w = names[k] ? strstr(text, names[k]) : NULL;

		fv_every[k] = w ? strtol(w + strlen(names[k]), NULL, 10) : 0;
		fv_every_seen[k] = 0;
	}
}

/* 1 when the file says this operation of kind fails (fv_lock held). */
static int every_fails(enum faultvfs_kind kind)
{
	if (fv_every_path[0] == '\0')
		return 0;
	every_read();
	return fv_every[kind] > 0 && ++fv_every_seen[kind] % fv_every[kind] == 0;
}

/* 1 when this operation of kind is to fail. */
static int fail_now(enum faultvfs_kind kind)
{
	if (kind == FAULTVFS_WRITE && fv_full)
		return 1;
	if (every_fails(kind))
		return 1;
	if (fv_kind == FAULTVFS_NONE || fv_fired)
		return 0;
	if (fv_kind != kind && !(fv_kind == FAULTVFS_FULL && kind == FAULTVFS_WRITE))
		return 0;
	if (++fv_seen != fv_n)
		return 0;
	fv_fired = 1;
	if (fv_kind == FAULTVFS_FULL)
		fv_full = 1;
	return 1;
}

static int remember(fv_file *f, sqlite3_int64 off, int len, int is_trunc)
{
	fv_undo *u = calloc(1, sizeof *u + (size_t)len);
	int rc;

	if (u == NULL)
		return SQLITE_NOMEM;
	u->off = off;
	u->len = len;
	u->is_trunc = is_trunc;
	rc = f->real->pMethods->xRead(f->real, u->data, len, off);
	if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) {
		free(u);
		return rc;
	}
	u->next = f->undo;
	f->undo = u;
	return SQLITE_OK;
}

static int fv_close(sqlite3_file *p)
{
	fv_file *f = (fv_file *)p;
	int rc;

	pthread_mutex_lock(&fv_lock);
	if (f->track) {
		if (f->prev)
			f->prev->next = f->next;
		else
			fv_open_files = f->next;
		if (f->next)
			f->next->prev = f->prev;
		undo_free(f);
	}
	pthread_mutex_unlock(&fv_lock);
	rc = f->real->pMethods ? f->real->pMethods->xClose(f->real) : SQLITE_OK;
	return rc;
}

static int fv_read(sqlite3_file *p, void *buf, int n, sqlite3_int64 off)
{
	fv_file *f = (fv_file *)p;

	return f->real->pMethods->xRead(f->real, buf, n, off);
}

static int fv_write(sqlite3_file *p, const void *buf, int n, sqlite3_int64 off)
{
	fv_file *f = (fv_file *)p;
	int rc = SQLITE_OK;

	pthread_mutex_lock(&fv_lock);
	if (f->track) {
		op_count();
		if (fail_now(FAULTVFS_WRITE))
			rc = fv_full ? SQLITE_FULL : SQLITE_IOERR_WRITE;
		else if (fv_crash_op > 0)
			rc = remember(f, off, n, 0);
	}
	pthread_mutex_unlock(&fv_lock);
	if (rc != SQLITE_OK)
		return rc;
	return f->real->pMethods->xWrite(f->real, buf, n, off);
}

static int fv_truncate(sqlite3_file *p, sqlite3_int64 size)
{
	fv_file *f = (fv_file *)p;
	sqlite3_int64 cur = 0;
	int rc = SQLITE_OK;

	pthread_mutex_lock(&fv_lock);
	if (f->track) {
		op_count();
		if (fv_crash_op > 0 && f->real->pMethods->xFileSize(f->real, &cur) == SQLITE_OK &&
		    cur > size && cur - size < (1 << 28))
			rc = remember(f, size, (int)(cur - size), 1);
	}
	pthread_mutex_unlock(&fv_lock);
	if (rc != SQLITE_OK)
		return rc;
	return f->real->pMethods->xTruncate(f->real, size);
}

static int fv_sync(sqlite3_file *p, int flags)
{
	fv_file *f = (fv_file *)p;
	int rc = SQLITE_OK;

	pthread_mutex_lock(&fv_lock);
	if (f->track) {
		op_count();
		if (fail_now(FAULTVFS_SYNC))
			rc = SQLITE_IOERR_FSYNC;
	}
	pthread_mutex_unlock(&fv_lock);
	if (rc != SQLITE_OK)
		return rc;
	/* The disk's own sync is not needed: a power cut is simulated, never
	 * real, and a shared machine's fsync costs tens of milliseconds. */
	(void)flags;
	if (f->track) {
		pthread_mutex_lock(&fv_lock);
		undo_free(f); /* all of it is on the disk now */
		pthread_mutex_unlock(&fv_lock);
	}
	return rc;
}

static int fv_file_size(sqlite3_file *p, sqlite3_int64 *size)
{
	fv_file *f = (fv_file *)p;

	return f->real->pMethods->xFileSize(f->real, size);
}

static int fv_lock_(sqlite3_file *p, int l)
{
	fv_file *f = (fv_file *)p;

	return f->real->pMethods->xLock(f->real, l);
}

static int fv_unlock(sqlite3_file *p, int l)
{
	fv_file *f = (fv_file *)p;

	return f->real->pMethods->xUnlock(f->real, l);
}

static int fv_check_reserved(sqlite3_file *p, int *out)
{
	fv_file *f = (fv_file *)p;

	return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int fv_file_control(sqlite3_file *p, int op, void *arg)
{
	fv_file *f = (fv_file *)p;

	return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int fv_sector_size(sqlite3_file *p)
{
	fv_file *f = (fv_file *)p;

	return f->real->pMethods->xSectorSize(f->real);
}

static int fv_device_chars(sqlite3_file *p)
{
	fv_file *f = (fv_file *)p;

	return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int fv_shm_map(sqlite3_file *p, int pg, int sz, int extend, void volatile **out)
{
	fv_file *f = (fv_file *)p;

	return f->real->pMethods->xShmMap(f->real, pg, sz, extend, out);
}

static int fv_shm_lock(sqlite3_file *p, int off, int n, int flags)
{
	fv_file *f = (fv_file *)p;

	return f->real->pMethods->xShmLock(f->real, off, n, flags);
}

static void fv_shm_barrier(sqlite3_file *p)
{
	fv_file *f = (fv_file *)p;

	f->real->pMethods->xShmBarrier(f->real);
}

static int fv_shm_unmap(sqlite3_file *p, int del)
{
	fv_file *f = (fv_file *)p;

	return f->real->pMethods->xShmUnmap(f->real, del);
}

static int fv_fetch(sqlite3_file *p, sqlite3_int64 off, int n, void **out)
{
	(void)p;
	(void)off;
	(void)n;
	*out = NULL; /* no memory-mapped reads: every read goes through xRead */
	return SQLITE_OK;
}

static int fv_unfetch(sqlite3_file *p, sqlite3_int64 off, void *ptr)
{
	(void)p;
	(void)off;
	(void)ptr;
	return SQLITE_OK;
}

static const sqlite3_io_methods fv_methods = {
    3,	       fv_close,	fv_read,	 fv_write,     fv_truncate,	 fv_sync,
    fv_file_size,  fv_lock_,	fv_unlock,	 fv_check_reserved, fv_file_control, fv_sector_size,
    fv_device_chars, fv_shm_map, fv_shm_lock, fv_shm_barrier, fv_shm_unmap, fv_fetch,
    fv_unfetch,
};

static int fv_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *p, int flags, int *out_flags)
{
	fv_file *f = (fv_file *)p;
	int rc;

	(void)vfs;
	memset(f, 0, sizeof *f);
	f->real = (sqlite3_file *)(f + 1);
	rc = fv_real->xOpen(fv_real, name, f->real, flags, out_flags);
	if (rc != SQLITE_OK) {
		f->real->pMethods = NULL;
		return rc;
	}
	f->base.pMethods = &fv_methods;
	f->track = (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL)) != 0;
	if (f->track) {
		pthread_mutex_lock(&fv_lock);
		f->next = fv_open_files;
		if (fv_open_files)
			fv_open_files->prev = f;
		fv_open_files = f;
		pthread_mutex_unlock(&fv_lock);
	}
	return SQLITE_OK;
}

static int fv_delete(sqlite3_vfs *v, const char *name, int sync_dir)
{
	(void)v;
	return fv_real->xDelete(fv_real, name, sync_dir);
}

static int fv_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
	(void)v;
	return fv_real->xAccess(fv_real, name, flags, out);
}

static int fv_full_path(sqlite3_vfs *v, const char *name, int n, char *out)
{
	(void)v;
	return fv_real->xFullPathname(fv_real, name, n, out);
}

static int fv_randomness(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return fv_real->xRandomness(fv_real, n, out);
}

static int fv_sleep(sqlite3_vfs *v, int us)
{
	(void)v;
	return fv_real->xSleep(fv_real, us);
}

static int fv_current_time(sqlite3_vfs *v, double *out)
{
	(void)v;
	return fv_real->xCurrentTime(fv_real, out);
}

static int fv_last_error(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return fv_real->xGetLastError(fv_real, n, out);
}

static int fv_current_time64(sqlite3_vfs *v, sqlite3_int64 *out)
{
	(void)v;
	return fv_real->xCurrentTimeInt64(fv_real, out);
}

/* ---- the allocator -------------------------------------------------------- */

static int malloc_fails(void)
{
	int fail = 0;

	pthread_mutex_lock(&fv_lock);
	fv_mallocs++;
	if (fv_kind == FAULTVFS_MALLOC && !fv_fired && ++fv_seen == fv_n) {
		fv_fired = 1;
		fail = 1;
	}
	if (every_fails(FAULTVFS_MALLOC))
		fail = 1;
	pthread_mutex_unlock(&fv_lock);
	return fail;
}

static void *fv_malloc(int n)
{
	return malloc_fails() ? NULL : fv_mem_real.xMalloc(n);
}

static void *fv_realloc(void *p, int n)
{
	return malloc_fails() ? NULL : fv_mem_real.xRealloc(p, n);
}

int faultvfs_install(void)
{
	static sqlite3_mem_methods mem;

	if (fv_real != NULL)
		return 0;
	if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &fv_mem_real) != SQLITE_OK)
		return -1;
	mem = fv_mem_real;
	mem.xMalloc = fv_malloc;
	mem.xRealloc = fv_realloc;
	if (sqlite3_config(SQLITE_CONFIG_MALLOC, &mem) != SQLITE_OK)
		return -1;
	sqlite3_config(SQLITE_CONFIG_LOG, db_log_callback, NULL);
	fv_real = sqlite3_vfs_find(NULL);
	if (fv_real == NULL)
		return -1;
	fv_vfs = (sqlite3_vfs){
	    2,
	    (int)sizeof(fv_file) + fv_real->szOsFile,
	    fv_real->mxPathname,
	    NULL,
	    "outpost-fault",
	    NULL,
	    fv_open,
	    fv_delete,
	    fv_access,
	    fv_full_path,
	    NULL,
	    NULL,
	    NULL,
	    NULL,
	    fv_randomness,
	    fv_sleep,
	    fv_current_time,
	    fv_last_error,
	    fv_current_time64,
	    NULL,
	    NULL,
	    NULL,
	};
	return sqlite3_vfs_register(&fv_vfs, 1) == SQLITE_OK ? 0 : -1;
}

void faultvfs_crash_at(long op, unsigned seed)
{
	pthread_mutex_lock(&fv_lock);
	fv_ops = 0;
	fv_crash_op = op;
	fv_seed = seed ? seed : 1;
	pthread_mutex_unlock(&fv_lock);
}

void faultvfs_fail_at(enum faultvfs_kind kind, long n)
{
	pthread_mutex_lock(&fv_lock);
	fv_kind = kind;
	fv_n = n;
	fv_seen = 0;
	fv_fired = 0;
	fv_full = 0;
	fv_mallocs = 0;
	pthread_mutex_unlock(&fv_lock);
}

LOCKED_GETTER(long, faultvfs_ops, fv_lock, fv_ops)

LOCKED_GETTER(long, faultvfs_mallocs, fv_lock, fv_mallocs)

LOCKED_GETTER(int, faultvfs_fired, fv_lock, fv_fired)

int faultvfs_every_file(const char *path)
{
	int ret = -1;

	pthread_mutex_lock(&fv_lock);
	if (path && strlen(path) < sizeof fv_every_path) {
		snprintf(fv_every_path, sizeof fv_every_path, "%s", path);
		ret = 0;
	}
	pthread_mutex_unlock(&fv_lock);
	return ret;
}

int faultvfs_from_env(void)
{
	const char *path = getenv("OUTPOST_TEST_HOOKS_IOFAULT_FILE");

	if (path == NULL || *path == '\0')
		return 0;
	return faultvfs_install() == 0 && faultvfs_every_file(path) == 0 ? 0 : -1;
}

int faultvfs_fdatasync(int fd)
{
	int fail;

	pthread_mutex_lock(&fv_lock);
	fail = fv_real != NULL && fail_now(FAULTVFS_SYNC);
	pthread_mutex_unlock(&fv_lock);
	if (fail) {
		errno = EIO;
		return -1;
	}
	return fdatasync(fd);
}
#else
#include <unistd.h>

int faultvfs_install(void)
{
	return -1;
}

void faultvfs_crash_at(long op, unsigned seed)
{
	(void)op;
	(void)seed;
}

void faultvfs_fail_at(enum faultvfs_kind kind, long n)
{
	(void)kind;
	(void)n;
}

long faultvfs_ops(void)
{
	return 0;
}

long faultvfs_mallocs(void)
{
	return 0;
}

int faultvfs_fired(void)
{
	return 0;
}

int faultvfs_every_file(const char *path)
{
	(void)path;
	return -1;
}

int faultvfs_from_env(void)
{
	return 0;
}

int faultvfs_fdatasync(int fd)
{
	return fdatasync(fd);
}
#endif
