/*
 * locked.h - the one "read a shared value under its mutex" of lib/: a
 * getter function that locks, copies the value, unlocks and returns it.
 *
 *   LOCKED_GETTER(long, faultvfs_ops, fv_lock, fv_ops)
 *
 * defines long faultvfs_ops(void).  The mutex and the variable are the
 * file's own (static) ones; callers include <pthread.h>.
 */
#ifndef OUTPOST_LOCKED_H
#define OUTPOST_LOCKED_H

#define LOCKED_GETTER(type, name, lock, var)                                                       \
	type name(void)                                                                            \
	{                                                                                          \
		type v_;                                                                           \
		pthread_mutex_lock(&(lock));                                                       \
		v_ = (var);                                                                        \
		pthread_mutex_unlock(&(lock));                                                     \
		return v_;                                                                         \
	}

#endif
