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

#define DEMO_OFFICE_SQL                                                                    \
	"INSERT OR IGNORE INTO offices(id, local_area_id, name, address, updated_hlc) "        \
	"VALUES(?, '" DEMO_LOCAL_AREA "', ?, ?, ?)"
#define DEMO_REASON_SQL                                                                    \
	"INSERT OR IGNORE INTO greeter_reasons(id, local_area_id, office_id, label, label_es," \
	" sort, active, updated_hlc) VALUES(?, '" DEMO_LOCAL_AREA "', NULL, ?, ?, ?, 1, ?)"
#define DEMO_STAFF_SQL                                                                     \
	"INSERT OR IGNORE INTO staff(id, username, display_name, local_area_id, office_id,"    \
	" privilege_group, crm_work_group, active, updated_hlc)"                               \
	" VALUES(?, ?, ?, '" DEMO_LOCAL_AREA "', ?, ?, ?, 1, ?)"

int demo_seed_reference(sqlite3 *db, const char *hlc)
{
	if (db_run(db,
		   "INSERT OR IGNORE INTO local_areas(id, name, field_division, pseudo_ssn_prefix,"
		   " updated_hlc) VALUES('" DEMO_LOCAL_AREA "', 'Demo Local Area',"
		   " 'Demo Field Division', '975', ?)",
		   "t", hlc) != 0 ||
	    db_run(db, DEMO_OFFICE_SQL, "tttt", DEMO_OFFICE, "Demo America's Job Center",
		   "100 Main Street, Sacramento, CA 95814", hlc) != 0 ||
	    db_run(db, DEMO_OFFICE_SQL, "tttt", DEMO_OFFICE2, "Demo Satellite Job Center",
		   "200 River Road, West Sacramento, CA 95691", hlc) != 0)
		return -1;
	for (size_t i = 0; i < sizeof demo_reasons / sizeof demo_reasons[0]; i++)
		if (db_run(db, DEMO_REASON_SQL, "tttit", demo_reasons[i].id, demo_reasons[i].en,
			   demo_reasons[i].es, (int)(i + 1) * 10, hlc) != 0)
			return -1;
	for (size_t i = 0; i < sizeof demo_staff / sizeof demo_staff[0]; i++)
		if (db_run(db, DEMO_STAFF_SQL, "tttttit", demo_staff[i].id, demo_staff[i].username,
			   demo_staff[i].name, demo_staff[i].office, demo_staff[i].group,
			   demo_staff[i].crm, hlc) != 0)
			return -1;
	return 0;
}
