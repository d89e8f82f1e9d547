/*
 * conf.c - table-driven configuration; see conf.h.
 */
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int find(const conf *c, const char *name, size_t len)
{
	for (int i = 0; i < c->cf_n; i++) {
		const char *a = c->cf_tab[i].name;
		size_t k;
		for (k = 0; k < len && a[k]; k++) {
			char x = name[k] == '-' ? '_' : (char)tolower((unsigned char)name[k]);
			if (x != a[k])
				break;
		}
		if (k == len && a[k] == '\0')
			return i;
	}
	return -1;
}

int conf_init(conf *c, const conf_entry *tab, int n)
{
	c->cf_tab = tab;
	c->cf_n = n;
	c->cf_vals = calloc((size_t)n, sizeof(char *));
	if (c->cf_vals == NULL)
		return -1;
	for (int i = 0; i < n; i++) {
		c->cf_vals[i] = strdup(tab[i].def ? tab[i].def : "");
		if (c->cf_vals[i] == NULL)
			return -1;
	}
	return 0;
}

void conf_release(conf *c)
{
	if (c->cf_vals)
		for (int i = 0; i < c->cf_n; i++)
			free(c->cf_vals[i]);
	free(c->cf_vals);
	c->cf_vals = NULL;
}

static int setidx(conf *c, int i, const char *value, char *err, size_t errlen)
{
	const conf_entry *e = &c->cf_tab[i];
	char *dup, *end;
	long long v;

	if (e->type == CONF_INT) {
		errno = 0;
		v = strtoll(value, &end, 10);
		if (errno || end == value || *end != '\0') {
			snprintf(err, errlen, "%s: '%s' is not a whole number", e->name, value);
			return -1;
		}
		if (v < e->min || v > e->max) {
			snprintf(err, errlen, "%s: %lld is outside %lld..%lld", e->name, v, e->min,
				 e->max);
			return -1;
		}
	} else if (e->type == CONF_BOOL) {
		if (strcmp(value, "yes") && strcmp(value, "no") && strcmp(value, "true") &&
		    strcmp(value, "false") && strcmp(value, "1") && strcmp(value, "0")) {
			snprintf(err, errlen, "%s: '%s' is not yes or no", e->name, value);
			return -1;
		}
	}
	dup = strdup(value);
	if (dup == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	free(c->cf_vals[i]);
	c->cf_vals[i] = dup;
	return 0;
}

int conf_set(conf *c, const char *name, const char *value, char *err, size_t errlen)
{
	int i = find(c, name, strlen(name));

	if (i < 0) {
		snprintf(err, errlen, "unknown setting '%s'", name);
		return -1;
	}
	return setidx(c, i, value, err, errlen);
}

int conf_load_file(conf *c, const char *path, int required, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int lineno = 0, ret = 0;

	if (f == NULL) {
		if (!required && errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof line, f)) {
		char *p = line, *eq, *k, *v, *end;
		char e2[200];
		lineno++;
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '#' || *p == '\0')
			continue;
		eq = strchr(p, '=');
		if (eq == NULL) {
			snprintf(err, errlen, "%s:%d: expected 'name = value'", path, lineno);
			ret = -1;
			break;
		}
		*eq = '\0';
		k = p;
		end = eq;
		while (end > k && isspace((unsigned char)end[-1]))
			*--end = '\0';
		v = eq + 1;
		while (isspace((unsigned char)*v))
			v++;
		end = v + strlen(v);
		while (end > v && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (conf_set(c, k, v, e2, sizeof e2) != 0) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, e2);
			ret = -1;
			break;
		}
	}
	fclose(f);
	return ret;
}

int conf_load_env(conf *c, const char *prefix, char *err, size_t errlen)
{
	char name[128];

	for (int i = 0; i < c->cf_n; i++) {
		const char *v;
		size_t k;
		snprintf(name, sizeof name, "%s_%s", prefix, c->cf_tab[i].name);
		for (k = 0; name[k]; k++)
			name[k] = (char)toupper((unsigned char)name[k]);
		v = getenv(name);
		if (v && setidx(c, i, v, err, errlen) != 0) {
			/* "max_body: ..." names the variable the value came from. */
			char e2[256];
			size_t nl = strlen(c->cf_tab[i].name);
			snprintf(e2, sizeof e2, "%s", err);
			snprintf(err, errlen, "%s: %s", name,
				 strncmp(e2, c->cf_tab[i].name, nl) == 0 && e2[nl] == ':' ? e2 + nl + 2
											: e2);
			return -1;
		}
	}
	return 0;
}

int conf_load_args(conf *c, int *argc, char **argv, char *err, size_t errlen)
{
	int out = 1;

	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i], *eq, *val;
		int idx;
		if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			argv[out++] = argv[i];
			continue;
		}
		a += 2;
		eq = strchr(a, '=');
		idx = find(c, a, eq ? (size_t)(eq - a) : strlen(a));
		if (idx < 0) {
			argv[out++] = argv[i];
			continue;
		}
		if (eq) {
			val = eq + 1;
		} else if (c->cf_tab[idx].type == CONF_BOOL &&
			   (i + 1 >= *argc || strncmp(argv[i + 1], "-", 1) == 0)) {
			val = "yes";
		} else {
			if (i + 1 >= *argc) {
				snprintf(err, errlen, "--%s needs a value", c->cf_tab[idx].name);
				return -2;
			}
			val = argv[++i];
		}
		if (setidx(c, idx, val, err, errlen) != 0)
			return -1;
	}
	*argc = out;
	argv[out] = NULL;
	return 0;
}

const char *conf_str(const conf *c, const char *name)
{
	int i = find(c, name, strlen(name));
	return i < 0 ? "" : c->cf_vals[i];
}

long long conf_int(const conf *c, const char *name)
{
	int i = find(c, name, strlen(name));
	return i < 0 ? 0 : strtoll(c->cf_vals[i], NULL, 10);
}

int conf_bool(const conf *c, const char *name)
{
	const char *v = conf_str(c, name);
	return strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
}

void conf_dump(const conf *c, int with_help, void *fp)
{
	for (int i = 0; i < c->cf_n; i++) {
		if (with_help)
			fprintf(fp, "  --%-22s %s (default: %s)\n", c->cf_tab[i].name,
				c->cf_tab[i].help ? c->cf_tab[i].help : "",
				c->cf_tab[i].def && *c->cf_tab[i].def ? c->cf_tab[i].def : "none");
		else
			fprintf(fp, "%s = %s\n", c->cf_tab[i].name, c->cf_vals[i]);
	}
}
