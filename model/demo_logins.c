/*
 * demo_logins.c - the demo staff's test logins (README, "Test login"): the
 * demo staff of model/demo.c get a password, and one more staff member per
 * privilege group of data/privilege_groups.csv is added, so the privilege
 * matrix can be tried by hand and by the tests.  Every one of them has the
 * documented password DEMO_PASSWORD.
 *
 * Two sets of hashes of that one password (PBKDF2-HMAC-SHA256, 600,000
 * rounds, precomputed rather than spending seconds of CPU at first start),
 * with different salts: a stand-alone demo node seeds the first, a demo hub
 * the second.  An enrolled node refuses the first set (demo_login_node_hash):
 * a demo node enrolled later to a production hub may keep its old rows, and
 * the public password must never open it.  What a demo hub sends is the
 * second set, so a node enrolled to a demo hub (make run, the tests) signs in
 * as a stand-alone one does.  A production hub runs with demo = no and has
 * neither.
 */
#include "model/demo.h"
#include "model/privileges.h"

#include <string.h>

static const struct {
	const char *id, *username, *name, *group, *node_hash, *hub_hash;
} demo_logins[] = {
	{"demo-staff", "demo", NULL, NULL,
	 "pbkdf2-sha256$600000$a68bc86fd083343aeda98c7f2fb70b9f$7573b19ebed2b5759346de899af6ef0865e85d77c36c9ee6c523f8353e8440df",
	 "pbkdf2-sha256$600000$161b56243bcb8762a09901c5ed960069$64815c327f97ed0430ad5554133c5481955be5215426e54939f89b362daf2a47"},
	{"0190a000-0000-7000-8000-0000000000b1", "jlee", NULL, NULL,
	 "pbkdf2-sha256$600000$5784a2bd1823cd5117a9fbf0c105b393$6b5093e2da2c5b4d98ef7ed805f5c98388a891178a81e6c8719037fac48b6bfd",
	 "pbkdf2-sha256$600000$224553d9afb7777374ac98a108a074e4$872adc211c0ff8cf4973ef3d5028efb9b204b32612c3be6c507953dd00c0bfeb"},
	{"0190a000-0000-7000-8000-0000000000b2", "srivera", NULL, NULL,
	 "pbkdf2-sha256$600000$bafa539464c0236f0cc4437d06054859$b29c1681dca60bfdbfc900a465d7388b02dd29b829298955c08e14ece8caf326",
	 "pbkdf2-sha256$600000$e5c257ec68b64d53cf23bf791f99d915$4df556806fb894e0c4c6b249ef4a0987dc029a32007dfc9700bd9322d5697f90"},
	{"0190a000-0000-7000-8000-0000000000b3", "pkim", NULL, NULL,
	 "pbkdf2-sha256$600000$5a72df135ce040717a45f471b40f23fd$0677c4289e179b6635ae5379786759c6fbba23c1f72381ed617ee7a60a42c1b7",
	 "pbkdf2-sha256$600000$560f60da11137190a958c62c017c1201$a0e7b5ae698e9a5bbde8ecdff3fa04e2350b50d0f81eb18448b6fc0dea84ed49"},
	{"0190a000-0000-7000-8000-0000000000c1", "t-lwia-cbo", "Casey CBO", "LWIA/CBO Staff",
	 "pbkdf2-sha256$600000$74f86ecfc15c2f8b504530decb556b92$dab9fa2e9b2b4ffb728c4f770df87f177fb6436810592ae5f4f96eb89a5112f4",
	 "pbkdf2-sha256$600000$91010394bd7be2cb320e5e33cb442151$170e07d1113c7fd2baca327c3eeb1515c6f61606a197157044d945485215bbbd"},
	{"0190a000-0000-7000-8000-0000000000c2", "t-lwia-intake", "Indra Intake", "LWIA Intake Staff",
	 "pbkdf2-sha256$600000$83d933ccfd25a4bc568fc14c28e8862c$4a164d5cbf69dac2c77e8fc3159133fb18427fb4062d88baefec545805d820e3",
	 "pbkdf2-sha256$600000$06a6a60810b14893c24a48ef86318366$22def3d9a5a4d7bc2ff1f8f52c6cb5d6ee4cf87b3a93d34bf9145f8ac10e7053"},
	{"0190a000-0000-7000-8000-0000000000c3", "t-lwia-partner", "Parker Partner", "LWIA Partner Staff",
	 "pbkdf2-sha256$600000$90c137191f3e552fd41a4683d9f2fe37$fc552aa36d99b74f6a516c5c222b9bcf3fcc65151d2dd460fe532e40e5863e47",
	 "pbkdf2-sha256$600000$9c876b9c8155ee5ca26137d2b033bf11$9cd9dbe278ebf19c9a96b3b54d985b6f40d1229b377428047f6d4dd387e6c5d3"},
	{"0190a000-0000-7000-8000-0000000000c4", "t-lwia-supervisor", "Sydney Supervisor", "LWIA Partner Supervisor",
	 "pbkdf2-sha256$600000$9e9ffebca8e10fb940ad493f56d49598$5085940544f794bf27ac1ab3c4c2709a2cb388dcd2161219e4994dc9ad7fd0dd",
	 "pbkdf2-sha256$600000$c0db86155456eec3fe2fd7876573f471$f8c6418bb39d9798beca3213d7da9f0cef01abf88288caa19e7d59819f5835f1"},
	{"0190a000-0000-7000-8000-0000000000c5", "t-etpl", "Ellis ETPL", "ETPL Coordinators",
	 "pbkdf2-sha256$600000$251689175ac762b564128a65421fa69d$6e0a2f8a5c228e87511a0d3f0bdf4f4c66f60b9f04b2bcb4996c0d0aff675657",
	 "pbkdf2-sha256$600000$74a245810f19cabbc707880504e1f916$950135231291f7d37421848945543e91c549177bf209a040f748132824692136"},
	{"0190a000-0000-7000-8000-0000000000c6", "t-warn", "Wren WARN", "WARN",
	 "pbkdf2-sha256$600000$aa2dc95149e349724f290b56efe8e0e6$8c5adaf3f5f3783ffa92d04403a3c8ff9b0372beb7c6f8b37312d408acdd0a49",
	 "pbkdf2-sha256$600000$4a852ba69c0d07c2a54b3e8d245bce90$a837806476a302010dd646fd0137c061bcf1cd721f58a25990e583fce55f4833"},
	{"0190a000-0000-7000-8000-0000000000c7", "t-view", "Vic Viewer", "View Access",
	 "pbkdf2-sha256$600000$f2675e9ef6133e88138adfd0817cd855$cff769b5c4bf3b328922ce6d736c0ac53f8d71276b4d5d6b409496b75c5eedf4",
	 "pbkdf2-sha256$600000$0da3cf2efac353ba05d1e36ed319ef0d$433daf6b38bbff71474de9152a6b0fdba4749aecb06fbd4aebd020410a1aafa0"},
	{"0190a000-0000-7000-8000-0000000000c8", "t-view-reports", "Remy Reports", "View Access with Reports",
	 "pbkdf2-sha256$600000$4e165a4ee6c3a0b645da8745956aef27$02c511fb895628856fc1fb23d713292d1de446123ab2f2b46a54c74286a166dd",
	 "pbkdf2-sha256$600000$e764349bd16cc8dd225e5297be00d692$b3c8c17cf4e40c23a838d8d1a851faa9ae2ce4e668709055d7b4921550609f11"},
	{"0190a000-0000-7000-8000-0000000000c9", "t-dvop", "Dana DVOP", "DVOP",
	 "pbkdf2-sha256$600000$2e8d7615895b2eabcfc0b66c00b5f35a$6741cecfb5a53d8a7e9a3fda834ed288f2f8b5cd88ad1ba09d741198ac359c2d",
	 "pbkdf2-sha256$600000$60c1336e025b691c2c6f05d387aaa773$793a0dbf83d055c7af3a38a138999fe2cacfe419fb89bce20e372f3bec134f14"},
	{"0190a000-0000-7000-8000-0000000000ca", "t-helpdesk", "Hollis Helpdesk", "EDD El Centro Helpdesk",
	 "pbkdf2-sha256$600000$fd5a91e45eee545919217b7eae623002$0737077125e4a6c10ef9f0957c6cac80e7a510b0d75f2ff3dc0106739c1007bc",
	 "pbkdf2-sha256$600000$d672739aa7f0b43eeb2c24e8136a091b$943dc50e6932ba53ea2f8dee38729fab0f3ec74e25bc871b7a925470ad26f693"},
	{"0190a000-0000-7000-8000-0000000000cb", "t-wsb", "Wynn WSB", "EDD WSB Staff",
	 "pbkdf2-sha256$600000$70b0a7b92da442535c706e632d282d6f$97dcafa276eafc5eb205e73c9ac7d981c0601ead80bda16bdd7215a04e94a498",
	 "pbkdf2-sha256$600000$afc2df9106ff5fff13263c77ce257d6d$78a3faff0fb26539e0fbc77b373df880683fae7fb6526c631686b2321015f4d0"},
	{"0190a000-0000-7000-8000-0000000000cc", "t-wsb-supervisor", "Shay WSB Supervisor", "EDD WSB Supervisor",
	 "pbkdf2-sha256$600000$ad0481730b88cad23d85562753dcb131$b883df84a3c8209ca68c15ac772ee4ff70ff12abfbc9b60ed353ae8afaf581b7",
	 "pbkdf2-sha256$600000$e6a09d0892fd7efefe78643602086cd6$e7a3d5541af98c357427a8007fefd169c7cea0d39bf467a765c286cb03d30edd"},
	{"0190a000-0000-7000-8000-0000000000cd", "t-lver", "Lee LVER", "LVER",
	 "pbkdf2-sha256$600000$249cada5d4c4d196a8727f5f2b8a6be1$aed5d6cefb63f4a6250336a900165342e34bfd3235fc3a4b8a7d44b94514c204",
	 "pbkdf2-sha256$600000$82b2ccb121ffd13a62643a62ae23097b$77f97db78d5ac82146ca031d103789d10afa4b2f67cc96ad4801e968660329a6"},
	{"0190a000-0000-7000-8000-0000000000ce", "t-taa", "Tai TAA", "TAA Coordinators/Specialist",
	 "pbkdf2-sha256$600000$8e4bb9b1efddd803983616dcc16f638e$964413b59a25c3bd2d14e70846190d10bd4935fe8cbea8812bbd0e1602a2cedb",
	 "pbkdf2-sha256$600000$5bb5f5839d9fafb7102522c9a6f4014e$c84a3b293ee65fe6af652d6a5f2d7fcfef7d8a363fd31e7d97c40db09920e619"},
};

int demo_seed_logins(sqlite3 *db, const char *ts, int for_hub)
{
	sqlite3_stmt *staff = NULL, *cred = NULL;
	int ret = -1;

	if (db_prepare(db, &staff,
		       "INSERT OR IGNORE INTO staff(id, username, display_name, local_area_id,"
		       " office_id, privilege_group, crm_work_group, active, updated_hlc)"
		       " VALUES(?, ?, ?, '" DEMO_LOCAL_AREA "', '" DEMO_OFFICE "', ?, ?, 1, ?)") != 0 ||
	    db_prepare(db, &cred,
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
		sqlite3_bind_text(cred, 2,
				  for_hub ? demo_logins[i].hub_hash : demo_logins[i].node_hash, -1,
				  SQLITE_STATIC);
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

int demo_login_node_hash(const char *stored)
{
	for (size_t i = 0; stored && i < sizeof demo_logins / sizeof demo_logins[0]; i++)
		if (strcmp(stored, demo_logins[i].node_hash) == 0)
			return 1;
	return 0;
}

/* The second verifier (model/password.h) of DEMO_PASSWORD under each hub
 * hash above, by the hash's salt: precomputed like the hashes. */
static const struct {
	const char *salt, *verifier;
} demo_verifiers[] = {
	{"161b56243bcb8762a09901c5ed960069",
	 "0d96e540f98abcba282ddb0fe5d8a3642fffe3559be3d9374e511c5cdf9369aa"},
	{"224553d9afb7777374ac98a108a074e4",
	 "b611cc2f58d073972f5ddeb7dc1d22856af1737349db7a7b6197c66fcc6a50d4"},
	{"e5c257ec68b64d53cf23bf791f99d915",
	 "3bce6069c83b8d6b303e878ac2e63acc82bc8a5452ad8113fd1f824303a9aee1"},
	{"560f60da11137190a958c62c017c1201",
	 "a9202b4f1102a97aa8630b9ad145a9d6a59b1ea45b6567af8096f1e13d1f84fd"},
	{"91010394bd7be2cb320e5e33cb442151",
	 "0c3fcd64f6cde3d9ba01d786014c50518c7d9845476841735c2944b5e587011f"},
	{"06a6a60810b14893c24a48ef86318366",
	 "b8bf35515381532d676a44bbfe7a3f5c17277077f5c52c05c3a1f7558e546b61"},
	{"9c876b9c8155ee5ca26137d2b033bf11",
	 "c49b80695a46a3c4facf8d9522c28de9bbda49b9b466591a3ed280cc54664bde"},
	{"c0db86155456eec3fe2fd7876573f471",
	 "6ab60922589a490558c0d7e81b4b1e77950a5cf93e5eecaad53c4b9f91d80d00"},
	{"74a245810f19cabbc707880504e1f916",
	 "bc81e05783987830e73ade8aab800946f26d911b97dd032e3546c220b3f29d28"},
	{"4a852ba69c0d07c2a54b3e8d245bce90",
	 "74f7c6e9319a3b1f637ebd1305466804ac42b761291a3ac282b9b4a474c89a01"},
	{"0da3cf2efac353ba05d1e36ed319ef0d",
	 "f87d1d27b39e70b079ccae500f5a0ac530108efbea6443a4a2371ffb3e0c9703"},
	{"e764349bd16cc8dd225e5297be00d692",
	 "8cf74c0c22fe3f7b654a73e23b147d30fd20b2c2afb8efbc91b4fc5f62a0772f"},
	{"60c1336e025b691c2c6f05d387aaa773",
	 "67910036c04d4344d3d729cbb59d0b7db174b27f8f01300b26de4456561d5ae6"},
	{"d672739aa7f0b43eeb2c24e8136a091b",
	 "d18fa8665c6e5d9c002e130a56687b33956f9f26d4ff0e292324db69b7976eba"},
	{"afc2df9106ff5fff13263c77ce257d6d",
	 "bbef7015a40b7823dae6f9ba48d342de5ca434f87470d3b267fd9c02734086b7"},
	{"e6a09d0892fd7efefe78643602086cd6",
	 "7df2bb0a6eec656c3c7f81884269e241c09245cf99d6d7fd17d565f98e302b90"},
	{"82b2ccb121ffd13a62643a62ae23097b",
	 "28dcae3c24be5788c8afb9a0fec70ecda266a649906e762ebaeaa2b7e1550c0b"},
	{"5bb5f5839d9fafb7102522c9a6f4014e",
	 "0e0e4b596cd5051db9cee8b1e0203ff84a48781a69e488247c538bf0a7e6b421"},
};

const char *demo_login_hub_verifier(const char *stored)
{
	for (size_t i = 0; stored && i < sizeof demo_logins / sizeof demo_logins[0]; i++)
		if (strcmp(stored, demo_logins[i].hub_hash) == 0)
			for (size_t k = 0; k < sizeof demo_verifiers / sizeof demo_verifiers[0]; k++)
				if (strstr(stored, demo_verifiers[k].salt) != NULL)
					return demo_verifiers[k].verifier;
	return NULL;
}
