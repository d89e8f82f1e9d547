/*
 * restamp.c - what an office wrote before its node was enrolled, sent under
 * the identity enrollment gave it (issue 11).
 *
 * A stand-alone node stamps its rows with a provisional node id (a UUIDv7 of
 * its own, node/main.c) and, with demo on, the demo office and Local Area.
 * The hub checks every pushed row against the node that sends it (an
 * audit_events or credential_changes node_id must be the sender's, a row
 * must lie in its office), so those rows would be quarantined once the node
 * is enrolled.  sync_client_adopt() records the identity a new one replaces
 * (sync_state prev_node_id, prev_office_id, prev_la_id), and every frame the
 * node builds (push and export) sends its entries with that identity's
 * values replaced by the current one in the columns that carry it: node_id;
 * office_id and scope_office; local_area_id and scope_la; and the node part
 * of a time stamp (a row's updated_hlc, an event's hlc, the entry's own
 * stamp: sync__restamp_hlc), which the hub checks is the sender's too
 * (sync/apply.c: ties break on it).  The outbox itself
 * is not rewritten, so an entry is sent the same way every time (a resend to
 * a restored hub too), and a write that raced the enrollment is covered as
 * well.  The node's own copies of those rows are replaced by the hub's with
 * the snapshot a new identity starts with.
 */
#include "sync/client_int.h"
#include "sync/changeset.h"
#include "lib/hlc.h"

#include <stdlib.h>
#include <string.h>

/* Column roles (COL_NODE..COL_LA index rm_from and rm_to from 1). */
enum { COL_OTHER = 0, COL_NODE, COL_OFFICE, COL_LA, COL_STAMP };

static int col_role(const char *name)
{
	if (strcmp(name, "updated_hlc") == 0 || strcmp(name, "hlc") == 0)
		return COL_STAMP;
	if (strcmp(name, "node_id") == 0)
		return COL_NODE;
	if (strcmp(name, "office_id") == 0 || strcmp(name, "scope_office") == 0)
		return COL_OFFICE;
	if (strcmp(name, "local_area_id") == 0 || strcmp(name, "scope_la") == 0)
		return COL_LA;
	return COL_OTHER;
}

int sync__restamp_load(sqlite3 *db, sync__restamp_map *m)
{
	static const char *const prev[] = {"prev_node_id", "prev_office_id", "prev_la_id"};
	static const char *const cur[] = {"node_id", "office_id", "local_area_id"};

	int rc;

	memset(m, 0, sizeof *m);
	/* A database without the node's tables has nothing to replace. */
	if ((rc = db_table_exists(db, "sync_state")) <= 0 ||
	    (rc = db_table_exists(db, "node_meta")) <= 0)
		return rc;
	for (int i = 0; i < 3; i++) {
		if (db_kv_get(db, "sync_state", prev[i], m->rm_from[i], sizeof m->rm_from[i]) < 0 ||
		    db_kv_get(db, "node_meta", cur[i], m->rm_to[i], sizeof m->rm_to[i]) < 0)
			return -1;
		if (m->rm_from[i][0] && m->rm_to[i][0] && strcmp(m->rm_from[i], m->rm_to[i]) != 0)
			m->rm_active = 1;
		else
			m->rm_from[i][0] = '\0';
	}
	return 0;
}

/* The stamp s (n bytes) with the replaced node id as its node part, into
 * out with the current one: 1, else 0. */
static int stamp_swap(const sync__restamp_map *m, const char *s, size_t n, char *out)
{
	char in[HLC_STRLEN];
	const char *node = NULL;
	size_t head, to = strlen(m->rm_to[0]);

	if (m->rm_from[0][0] == '\0' || n >= sizeof in)
		return 0;
	memcpy(in, s, n);
	in[n] = '\0';
	if (hlc_parse(in, NULL, NULL, &node) != 0 || strcmp(node, m->rm_from[0]) != 0)
		return 0;
	head = (size_t)(node - in);
	if (head + to >= HLC_STRLEN)
		return 0;
	memcpy(out, in, head);
	memcpy(out + head, m->rm_to[0], to + 1);
	return 1;
}

int sync__restamp_hlc(const sync__restamp_map *m, const char *stamp, char *out)
{
	return stamp != NULL && stamp_swap(m, stamp, strlen(stamp), out);
}

/* One value, re-encoded; a TEXT value of a column with a role equal to the
 * identity replaced becomes the current one (a time stamp: its node part). */
static void put_val(buf *out, const sync__restamp_map *m, int role, const cs_value *v, int *rc,
		    int *changed)
{
	cs_value w = *v;
	char stamp[HLC_STRLEN];

	if (v->cv_type == CSV_TEXT && role == COL_STAMP) {
		if (stamp_swap(m, (const char *)v->cv_p, v->cv_n, stamp)) {
			w.cv_p = (const unsigned char *)stamp;
			w.cv_n = strlen(stamp);
			*changed = 1;
		}
	} else if (v->cv_type == CSV_TEXT && role != COL_OTHER) {
		const char *from = m->rm_from[role - 1], *to = m->rm_to[role - 1];
		if (from[0] && v->cv_n == strlen(from) && memcmp(v->cv_p, from, v->cv_n) == 0) {
			w.cv_p = (const unsigned char *)to;
			w.cv_n = strlen(to);
			*changed = 1;
		}
	}
	changeset_put_csvalue(out, &w, rc);
}

void sync__restamp_release(sync__restamp_map *m)
{
	for (int i = 0; i < m->rm_ntab; i++) {
		free(m->rm_tab[i].rt_name);
		free(m->rm_tab[i].rt_roles);
	}
	m->rm_ntab = 0;
}

/* The roles of the columns of table `name` (PRAGMA table_info order, the
 * order of a changeset's values).  0, or -1 when they do not match ncol. */
static int table_roles_read(sqlite3 *db, const char *name, int ncol, unsigned char *roles)
{
	sqlite3_stmt *st = NULL;
	int i = 0;

	if (db_prepare(db, &st, "SELECT name FROM pragma_table_info(?1) ORDER BY cid") != 0)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	while (i < ncol && sqlite3_step(st) == SQLITE_ROW) {
		const char *col = db_col(st, 0);

		if (col == NULL)
			break; /* out of memory: i < ncol */
		roles[i++] = (unsigned char)col_role(col);
	}
	sqlite3_finalize(st);
	return i == ncol ? 0 : -1;
}

/* table_roles_read, once per table and map (a backlog's entries name the
 * same few tables: a statement per entry was most of a push's client CPU). */
static int table_roles(sqlite3 *db, sync__restamp_map *m, const char *name, int ncol,
		       unsigned char *roles)
{
	sync__restamp_tab *t;

	for (int i = 0; i < m->rm_ntab; i++)
		if (m->rm_tab[i].rt_ncol == ncol && strcmp(m->rm_tab[i].rt_name, name) == 0) {
			memcpy(roles, m->rm_tab[i].rt_roles, (size_t)ncol);
			return 0;
		}
	if (table_roles_read(db, name, ncol, roles) != 0)
		return -1;
	if (m->rm_ntab == (int)(sizeof m->rm_tab / sizeof m->rm_tab[0]))
		return 0; /* (not kept: read again next time) */
	t = &m->rm_tab[m->rm_ntab];
	t->rt_name = strdup(name);
	t->rt_roles = malloc((size_t)ncol + 1);
	if (t->rt_name == NULL || t->rt_roles == NULL) {
		free(t->rt_name);
		free(t->rt_roles);
		return 0;
	}
	memcpy(t->rt_roles, roles, (size_t)ncol);
	t->rt_ncol = ncol;
	m->rm_ntab++;
	return 0;
}

/* 1 when the bytes of one of the replaced values occur in cs: only then
 * can a value of cs be one of them. */
static int holds(const unsigned char *p, size_t len, const char *s)
{
	size_t n = strlen(s);
	const unsigned char *end = p + len, *q;

	while (n > 0 && (size_t)(end - p) >= n && (q = memchr(p, s[0], (size_t)(end - p) - n + 1))) {
		if (memcmp(q, s, n) == 0)
			return 1;
		p = q + 1;
	}
	return 0;
}

static int names_replaced(const sync__restamp_map *m, const void *cs, size_t len)
{
	for (int i = 0; i < 3; i++)
		if (m->rm_from[i][0] && holds(cs, len, m->rm_from[i]))
			return 1;
	return 0;
}

int sync__restamp(sqlite3 *db, sync__restamp_map *m, const void *cs, size_t len, buf *out,
		  int *changed)
{
	unsigned char roles[CHANGESET_MAX_COLUMNS];
	const char *err = NULL;
	cs_iter it;
	int rc, put = 0;

	*changed = 0;
	if (!names_replaced(m, cs, len))
		return 0;
	buf_reset(out);
	changeset_iter_init(&it, cs, len);
	while ((rc = changeset_next(&it, &err)) == 1) {
		if (it.ci_patchset) {
			rc = -1;
			break;
		}
		if (it.ci_new_table) {
			if (table_roles(db, m, it.ci_table, it.ci_ncol, roles) != 0)
				memset(roles, COL_OTHER, (size_t)it.ci_ncol);
			changeset_put_table(out, 0, it.ci_table, it.ci_ncol, it.ci_pk, &put);
		}
		changeset_put_op(out, it.ci_op, it.ci_indirect, &put);
		if (it.ci_op != SQLITE_INSERT)
			for (int i = 0; i < it.ci_ncol; i++)
				put_val(out, m, roles[i], &it.ci_old[i], &put, changed);
		if (it.ci_op != SQLITE_DELETE)
			for (int i = 0; i < it.ci_ncol; i++)
				put_val(out, m, roles[i], &it.ci_new[i], &put, changed);
	}
	changeset_iter_release(&it);
	return rc == 0 && put == 0 ? 0 : -1;
}
