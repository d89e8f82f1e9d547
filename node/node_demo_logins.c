/*
 * node_demo_logins.c - test logins on a stand-alone demo node (the `demo`
 * setting, never enrolled): the demo staff of model/demo.c get a password,
 * and one more staff member per privilege group of
 * data/privilege_groups.csv is added, so the privilege matrix can be tried
 * by hand and by the tests.  Every one of them has the documented test
 * password NODE_DEMO_PASSWORD (README, "Test login"); it is a demo, so the
 * hashes (PBKDF2-HMAC-SHA256, 600,000 rounds, a salt each) are precomputed
 * here rather than spending seconds of CPU at the first start.  An enrolled
 * node never runs this: the hub's snapshot replaces its staff.
 */
#include "node/node_auth.h"
#include "model/demo.h"
#include "model/privileges.h"

#include <string.h>

static const struct {
	const char *id, *username, *name, *group, *hash;
} demo_logins[] = {
	{"demo-staff", "demo", NULL, NULL,
	 "pbkdf2-sha256$600000$a68bc86fd083343aeda98c7f2fb70b9f$7573b19ebed2b5759346de899af6ef0865e85d77c36c9ee6c523f8353e8440df"},
	{"0190a000-0000-7000-8000-0000000000b1", "jlee", NULL, NULL,
	 "pbkdf2-sha256$600000$5784a2bd1823cd5117a9fbf0c105b393$6b5093e2da2c5b4d98ef7ed805f5c98388a891178a81e6c8719037fac48b6bfd"},
	{"0190a000-0000-7000-8000-0000000000b2", "srivera", NULL, NULL,
	 "pbkdf2-sha256$600000$bafa539464c0236f0cc4437d06054859$b29c1681dca60bfdbfc900a465d7388b02dd29b829298955c08e14ece8caf326"},
	{"0190a000-0000-7000-8000-0000000000b3", "pkim", NULL, NULL,
	 "pbkdf2-sha256$600000$5a72df135ce040717a45f471b40f23fd$0677c4289e179b6635ae5379786759c6fbba23c1f72381ed617ee7a60a42c1b7"},
	{"0190a000-0000-7000-8000-0000000000c1", "t-lwia-cbo", "Casey CBO", "LWIA/CBO Staff",
	 "pbkdf2-sha256$600000$74f86ecfc15c2f8b504530decb556b92$dab9fa2e9b2b4ffb728c4f770df87f177fb6436810592ae5f4f96eb89a5112f4"},
	{"0190a000-0000-7000-8000-0000000000c2", "t-lwia-intake", "Indra Intake", "LWIA Intake Staff",
	 "pbkdf2-sha256$600000$83d933ccfd25a4bc568fc14c28e8862c$4a164d5cbf69dac2c77e8fc3159133fb18427fb4062d88baefec545805d820e3"},
	{"0190a000-0000-7000-8000-0000000000c3", "t-lwia-partner", "Parker Partner", "LWIA Partner Staff",
	 "pbkdf2-sha256$600000$90c137191f3e552fd41a4683d9f2fe37$fc552aa36d99b74f6a516c5c222b9bcf3fcc65151d2dd460fe532e40e5863e47"},
	{"0190a000-0000-7000-8000-0000000000c4", "t-lwia-supervisor", "Sydney Supervisor", "LWIA Partner Supervisor",
	 "pbkdf2-sha256$600000$9e9ffebca8e10fb940ad493f56d49598$5085940544f794bf27ac1ab3c4c2709a2cb388dcd2161219e4994dc9ad7fd0dd"},
	{"0190a000-0000-7000-8000-0000000000c5", "t-etpl", "Ellis ETPL", "ETPL Coordinators",
	 "pbkdf2-sha256$600000$251689175ac762b564128a65421fa69d$6e0a2f8a5c228e87511a0d3f0bdf4f4c66f60b9f04b2bcb4996c0d0aff675657"},
	{"0190a000-0000-7000-8000-0000000000c6", "t-warn", "Wren WARN", "WARN",
	 "pbkdf2-sha256$600000$aa2dc95149e349724f290b56efe8e0e6$8c5adaf3f5f3783ffa92d04403a3c8ff9b0372beb7c6f8b37312d408acdd0a49"},
	{"0190a000-0000-7000-8000-0000000000c7", "t-view", "Vic Viewer", "View Access",
	 "pbkdf2-sha256$600000$f2675e9ef6133e88138adfd0817cd855$cff769b5c4bf3b328922ce6d736c0ac53f8d71276b4d5d6b409496b75c5eedf4"},
	{"0190a000-0000-7000-8000-0000000000c8", "t-view-reports", "Remy Reports", "View Access with Reports",
	 "pbkdf2-sha256$600000$4e165a4ee6c3a0b645da8745956aef27$02c511fb895628856fc1fb23d713292d1de446123ab2f2b46a54c74286a166dd"},
	{"0190a000-0000-7000-8000-0000000000c9", "t-dvop", "Dana DVOP", "DVOP",
	 "pbkdf2-sha256$600000$2e8d7615895b2eabcfc0b66c00b5f35a$6741cecfb5a53d8a7e9a3fda834ed288f2f8b5cd88ad1ba09d741198ac359c2d"},
	{"0190a000-0000-7000-8000-0000000000ca", "t-helpdesk", "Hollis Helpdesk", "EDD El Centro Helpdesk",
	 "pbkdf2-sha256$600000$fd5a91e45eee545919217b7eae623002$0737077125e4a6c10ef9f0957c6cac80e7a510b0d75f2ff3dc0106739c1007bc"},
	{"0190a000-0000-7000-8000-0000000000cb", "t-wsb", "Wynn WSB", "EDD WSB Staff",
	 "pbkdf2-sha256$600000$70b0a7b92da442535c706e632d282d6f$97dcafa276eafc5eb205e73c9ac7d981c0601ead80bda16bdd7215a04e94a498"},
	{"0190a000-0000-7000-8000-0000000000cc", "t-wsb-supervisor", "Shay WSB Supervisor", "EDD WSB Supervisor",
	 "pbkdf2-sha256$600000$ad0481730b88cad23d85562753dcb131$b883df84a3c8209ca68c15ac772ee4ff70ff12abfbc9b60ed353ae8afaf581b7"},
	{"0190a000-0000-7000-8000-0000000000cd", "t-lver", "Lee LVER", "LVER",
	 "pbkdf2-sha256$600000$249cada5d4c4d196a8727f5f2b8a6be1$aed5d6cefb63f4a6250336a900165342e34bfd3235fc3a4b8a7d44b94514c204"},
	{"0190a000-0000-7000-8000-0000000000ce", "t-taa", "Tai TAA", "TAA Coordinators/Specialist",
	 "pbkdf2-sha256$600000$8e4bb9b1efddd803983616dcc16f638e$964413b59a25c3bd2d14e70846190d10bd4935fe8cbea8812bbd0e1602a2cedb"},
};

int node_seed_demo_logins(node *n, const char *ts)
{
	sqlite3_stmt *staff = NULL, *cred = NULL;
	int ret = -1;

	if (db_prepare(n->nd_db, &staff,
		       "INSERT OR IGNORE INTO staff(id, username, display_name, local_area_id,"
		       " office_id, privilege_group, crm_work_group, active, updated_hlc)"
		       " VALUES(?, ?, ?, '" DEMO_LOCAL_AREA "', '" DEMO_OFFICE "', ?, ?, 1, ?)") != 0 ||
	    db_prepare(n->nd_db, &cred,
		       "INSERT OR IGNORE INTO staff_credentials(id, local_area_id, password_hash,"
		       " password_temp, password_changed_at, updated_hlc)"
		       " VALUES(?, '" DEMO_LOCAL_AREA "', ?, 0, 0, ?)") != 0)
		goto out;
	for (size_t i = 0; i < sizeof demo_logins / sizeof demo_logins[0]; i++) {
		if (demo_logins[i].group) {
			sqlite3_bind_text(staff, 1, demo_logins[i].id, -1, SQLITE_STATIC);
			sqlite3_bind_text(staff, 2, demo_logins[i].username, -1, SQLITE_STATIC);
			sqlite3_bind_text(staff, 3, demo_logins[i].name, -1, SQLITE_STATIC);
			sqlite3_bind_text(staff, 4, demo_logins[i].group, -1, SQLITE_STATIC);
			sqlite3_bind_int(staff, 5, (priv_group_bits(demo_logins[i].group) & PRIV_CRM) != 0);
			sqlite3_bind_text(staff, 6, ts, -1, SQLITE_STATIC);
			if (sqlite3_step(staff) != SQLITE_DONE)
				goto out;
			sqlite3_reset(staff);
		}
		sqlite3_bind_text(cred, 1, demo_logins[i].id, -1, SQLITE_STATIC);
		sqlite3_bind_text(cred, 2, demo_logins[i].hash, -1, SQLITE_STATIC);
		sqlite3_bind_text(cred, 3, ts, -1, SQLITE_STATIC);
		if (sqlite3_step(cred) != SQLITE_DONE)
			goto out;
		sqlite3_reset(cred);
	}
	ret = 0;
out:
	sqlite3_finalize(staff);
	sqlite3_finalize(cred);
	return ret;
}

int node_demo_login_hash(const char *stored)
{
	for (size_t i = 0; stored && i < sizeof demo_logins / sizeof demo_logins[0]; i++)
		if (strcmp(stored, demo_logins[i].hash) == 0)
			return 1;
	return 0;
}
