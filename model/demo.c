/*
 * demo.c - demo reference data; see demo.h.
 */
#include "model/demo.h"

#include <stdio.h>

static const struct {
	const char *id, *en, *es;
} demo_reasons[] = {
	{"0190a000-0000-7000-8000-000000000001", "Job search help", "Ayuda para buscar empleo"},
	{"0190a000-0000-7000-8000-000000000002", "Unemployment insurance question",
	 "Preguntas sobre el seguro de desempleo"},
	{"0190a000-0000-7000-8000-000000000003", "Resume or cover letter help",
	 "Ayuda con el currículum o la carta de presentación"},
	{"0190a000-0000-7000-8000-000000000004", "Use a computer, printer or phone",
	 "Usar una computadora, impresora o teléfono"},
	{"0190a000-0000-7000-8000-000000000005", "Workshop or orientation", "Taller u orientación"},
	{"0190a000-0000-7000-8000-000000000006", "Appointment with a career counselor",
	 "Cita con un consejero de empleo"},
	{"0190a000-0000-7000-8000-000000000007", "Training programs (WIOA)",
	 "Programas de capacitación (WIOA)"},
	{"0190a000-0000-7000-8000-000000000008", "Veterans services", "Servicios para veteranos"},
	{"0190a000-0000-7000-8000-000000000009", "CalJOBS registration help",
	 "Ayuda para registrarse en CalJOBS"},
	{"0190a000-0000-7000-8000-00000000000a", "Hiring event or employer visit",
	 "Evento de contratación o visita de un empleador"},
	{"0190a000-0000-7000-8000-00000000000b", "Other", "Otro"},
};

/* The demo staff directory (credentials are set by the accounts module). */
static const struct {
	const char *id, *username, *name, *office, *group;
	int crm;
} demo_staff[] = {
	{"demo-staff", "demo", "Demo Staff", DEMO_OFFICE, "LWIA Partner Staff", 1},
	{"0190a000-0000-7000-8000-0000000000b1", "jlee", "Jordan Lee", DEMO_OFFICE,
	 "LWIA Partner Supervisor", 1},
	{"0190a000-0000-7000-8000-0000000000b2", "srivera", "Sam Rivera", DEMO_OFFICE2,
	 "EDD WSB Staff", 1},
	{"0190a000-0000-7000-8000-0000000000b3", "pkim", "Pat Kim", DEMO_OFFICE,
	 "View Access", 0},
};

int demo_seed_reference(sqlite3 *db, const char *hlc)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;

	if (db_prepare(db, &st,
		       "INSERT OR IGNORE INTO local_areas(id, name, field_division, pseudo_ssn_prefix,"
		       " updated_hlc) VALUES('" DEMO_LOCAL_AREA "', 'Demo Local Area',"
		       " 'Demo Field Division', '975', ?)") != 0)
		goto out;
	sqlite3_bind_text(st, 1, hlc, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	if (db_prepare(db, &st,
		       "INSERT OR IGNORE INTO offices(id, local_area_id, name, address, updated_hlc) "
		       "VALUES(?, '" DEMO_LOCAL_AREA "', ?, ?, ?)") != 0)
		goto out;
	sqlite3_bind_text(st, 1, DEMO_OFFICE, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, "Demo America's Job Center", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, "100 Main Street, Sacramento, CA 95814", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, hlc, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto out;
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, DEMO_OFFICE2, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, "Demo Satellite Job Center", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, "200 River Road, West Sacramento, CA 95691", -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	if (db_prepare(db, &st,
		       "INSERT OR IGNORE INTO greeter_reasons(id, local_area_id, office_id, label, "
		       "label_es, sort, active, updated_hlc) VALUES(?, '" DEMO_LOCAL_AREA
		       "', NULL, ?, ?, ?, 1, ?)") != 0)
		goto out;
	for (size_t i = 0; i < sizeof demo_reasons / sizeof demo_reasons[0]; i++) {
		sqlite3_bind_text(st, 1, demo_reasons[i].id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, demo_reasons[i].en, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, demo_reasons[i].es, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 4, (int)(i + 1) * 10);
		sqlite3_bind_text(st, 5, hlc, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto out;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (db_prepare(db, &st,
		       "INSERT OR IGNORE INTO staff(id, username, display_name, local_area_id, office_id,"
		       " privilege_group, crm_work_group, active, updated_hlc)"
		       " VALUES(?, ?, ?, '" DEMO_LOCAL_AREA "', ?, ?, ?, 1, ?)") != 0)
		goto out;
	for (size_t i = 0; i < sizeof demo_staff / sizeof demo_staff[0]; i++) {
		sqlite3_bind_text(st, 1, demo_staff[i].id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, demo_staff[i].username, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, demo_staff[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, demo_staff[i].office, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, demo_staff[i].group, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 6, demo_staff[i].crm);
		sqlite3_bind_text(st, 7, hlc, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto out;
		sqlite3_reset(st);
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}
