/*
 * conf.h - configuration as a table of {name, type, default, min, max}
 * entries (Redis static_configs style).  Values come, lowest precedence first,
 * from the defaults, the config file ("name = value" lines, '#' comments),
 * the environment (PREFIX_NAME, upper-cased) and command-line flags
 * (--name value or --name=value; '-' and '_' are interchangeable).
 */
#ifndef OUTPOST_CONF_H
#define OUTPOST_CONF_H

#include <stddef.h>

typedef enum { CONF_STR, CONF_INT, CONF_BOOL } conf_type;

typedef struct conf_entry {
	const char *name;
	conf_type type;
	const char *def;
	long long min, max; /* CONF_INT only */
	const char *help;
} conf_entry;

typedef struct conf {
	const conf_entry *cf_tab;
	int cf_n;
	char **cf_vals; /* current value of each entry, as text */
} conf;

int conf_init(conf *c, const conf_entry *tab, int n);
void conf_release(conf *c);
/* Set one value, checking its type and range. 0, or -1 with err filled. */
int conf_set(conf *c, const char *name, const char *value, char *err, size_t errlen);
/* Load a file; a missing file is fine unless required. 0 or -1 with err. */
int conf_load_file(conf *c, const char *path, int required, char *err, size_t errlen);
/* PREFIX_NAME environment variables. 0 or -1 with err (naming the
 * variable). */
int conf_load_env(conf *c, const char *prefix, char *err, size_t errlen);
/*
 * Parse argv flags that name entries.  Flags not in the table are left for
 * the caller: they are moved to the front of argv and their count returned in
 * *rest (argv[0] stays first).  0, -1 with err for a bad value, or -2 with
 * err for a flag without its value (a usage error: exit 2).
 */
int conf_load_args(conf *c, int *argc, char **argv, char *err, size_t errlen);

const char *conf_str(const conf *c, const char *name);
long long conf_int(const conf *c, const char *name);
int conf_bool(const conf *c, const char *name);
/* Print "name = value   # help" lines (for --help and -n). */
void conf_dump(const conf *c, int with_help, void *fp);

#endif
