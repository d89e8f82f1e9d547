/*
 * crm_seed.c - the hub-owned CRM lists and their demo data: employer activity
 * codes from seed/employer_activity_codes.csv, work item categories and
 * priorities, and a deterministic demo set of external (spidered) employers
 * and business directory entries with plausible California names, places,
 * industries and job-order counts.  Ids are fixed, so a hub and a stand-alone
 * node seeded apart agree on every row; see crm.h.
 */
#include "model/crm.h"
#include "lib/csv.h"
#include "lib/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *id, *name;
} categories[] = {
	{"crm-cat-outreach", "Outreach"},
	{"crm-cat-follow-up", "Follow-up"},
	{"crm-cat-recruitment", "Recruitment"},
	{"crm-cat-job-order", "Job Order"},
	{"crm-cat-business-services", "Business Services"},
	{"crm-cat-other", "Other"},
};

static const struct {
	const char *id, *name;
	int rank, def;
} priorities[] = {
	{"crm-pri-high", "High", 1, 0},
	{"crm-pri-normal", "Normal", 2, 1},
	{"crm-pri-low", "Low", 3, 0},
};

/* Places: city, county, ZIP, street names. */
static const struct {
	const char *city, *county, *zip;
} places[] = {
	{"Sacramento", "Sacramento", "95814"},   {"Sacramento", "Sacramento", "95815"},
	{"Elk Grove", "Sacramento", "95757"},    {"Roseville", "Placer", "95678"},
	{"West Sacramento", "Yolo", "95691"},    {"Davis", "Yolo", "95616"},
	{"Stockton", "San Joaquin", "95202"},    {"Modesto", "Stanislaus", "95354"},
	{"Fresno", "Fresno", "93721"},           {"Bakersfield", "Kern", "93301"},
	{"Oakland", "Alameda", "94607"},         {"San Jose", "Santa Clara", "95113"},
	{"San Francisco", "San Francisco", "94103"}, {"Fremont", "Alameda", "94538"},
	{"Santa Rosa", "Sonoma", "95404"},       {"Redding", "Shasta", "96001"},
	{"Chico", "Butte", "95928"},             {"Salinas", "Monterey", "93901"},
	{"Los Angeles", "Los Angeles", "90012"}, {"Long Beach", "Los Angeles", "90802"},
	{"Pasadena", "Los Angeles", "91101"},    {"Riverside", "Riverside", "92501"},
	{"San Bernardino", "San Bernardino", "92401"}, {"Ontario", "San Bernardino", "91764"},
	{"Anaheim", "Orange", "92805"},          {"Irvine", "Orange", "92614"},
	{"San Diego", "San Diego", "92101"},     {"Chula Vista", "San Diego", "91910"},
	{"Oxnard", "Ventura", "93030"},          {"Visalia", "Tulare", "93291"},
	{"Merced", "Merced", "95340"},           {"El Centro", "Imperial", "92243"},
};
#define NPLACES ((unsigned)(sizeof places / sizeof places[0]))

static const char *const streets[] = {
	"Main Street", "J Street", "Capitol Avenue", "Industrial Way", "Commerce Drive",
	"Oak Avenue", "Harbor Boulevard", "Mission Street", "El Camino Real", "Valley Road",
	"Sunset Boulevard", "Broadway", "Market Street", "Airport Road", "Park Avenue",
	"River Road", "Pacific Avenue", "Orchard Lane", "Madison Avenue", "Fulton Avenue",
};

/* Industries: NAICS code, title, name words and a name tail. */
static const struct {
	const char *naics, *title, *words[6], *tail[3], *kw;
} industries[] = {
	{"236220", "Commercial Building Construction",
	 {"Summit", "Granite", "Keystone", "Pioneer", "Cornerstone", "Bayview"},
	 {"Builders", "Construction", "Contractors"}, "construction building trades"},
	{"238220", "Plumbing, Heating and Air-Conditioning Contractors",
	 {"Comfort", "Delta", "Pacific", "Reliable", "Sierra", "Valley"},
	 {"Mechanical", "Heating & Air", "Plumbing"}, "hvac plumbing trades"},
	{"311991", "Perishable Prepared Food Manufacturing",
	 {"Golden State", "Harvest", "Sunrise", "Central Valley", "Orchard", "Farmhouse"},
	 {"Foods", "Kitchens", "Provisions"}, "food manufacturing production"},
	{"336390", "Other Motor Vehicle Parts Manufacturing",
	 {"Precision", "Apex", "Titan", "Redwood", "Allied", "Coastal"},
	 {"Manufacturing", "Components", "Industries"}, "manufacturing machinist assembly"},
	{"423830", "Industrial Machinery Wholesalers",
	 {"Western", "Capitol", "Sterling", "Consolidated", "Tri-County", "Liberty"},
	 {"Supply", "Equipment", "Distributors"}, "wholesale warehouse distribution"},
	{"445110", "Supermarkets and Grocery Stores",
	 {"Fresh", "Neighborhood", "Farmers", "Hometown", "La Esperanza", "Green Leaf"},
	 {"Market", "Grocers", "Foods"}, "retail grocery cashier"},
	{"484121", "General Freight Trucking, Long-Distance",
	 {"Interstate", "Golden Gate", "Highway 99", "Blue Line", "Coast to Coast", "Central"},
	 {"Logistics", "Freight", "Transport"}, "trucking cdl driver logistics"},
	{"493110", "General Warehousing and Storage",
	 {"Gateway", "Port City", "Inland Empire", "Delta", "Metro", "Crossroads"},
	 {"Warehousing", "Fulfillment", "Logistics"}, "warehouse forklift fulfillment"},
	{"541330", "Engineering Services",
	 {"Bright", "Sequoia", "Meridian", "Vector", "Horizon", "Northstar"},
	 {"Engineering", "Consulting Engineers", "Design Group"}, "engineering cad design"},
	{"541511", "Custom Computer Programming Services",
	 {"Bitwise", "Cloudline", "Sierra", "Pixel", "Quantum", "Open Field"},
	 {"Software", "Technologies", "Systems"}, "software developer it"},
	{"561320", "Temporary Help Services",
	 {"Premier", "Golden Bear", "Express", "Workforce", "Select", "Allied"},
	 {"Staffing", "Personnel", "Employment Services"}, "staffing temporary placement"},
	{"561720", "Janitorial Services",
	 {"Sparkle", "Pro", "Evergreen", "Crystal", "Bay Area", "Sunshine"},
	 {"Janitorial", "Building Services", "Cleaning"}, "janitorial custodian cleaning"},
	{"621111", "Offices of Physicians",
	 {"Family", "Valley", "Community", "Mercy", "Riverbend", "Oak Park"},
	 {"Medical Group", "Health Center", "Clinic"}, "healthcare medical assistant clinic"},
	{"622110", "General Medical and Surgical Hospitals",
	 {"Regional", "Memorial", "Sutter Creek", "St. Anne", "Good Samaritan", "Lakeside"},
	 {"Hospital", "Medical Center", "Health"}, "hospital nursing healthcare"},
	{"623110", "Nursing Care Facilities",
	 {"Golden Years", "Rosewood", "Willow", "Heritage", "Serenity", "Magnolia"},
	 {"Care Center", "Senior Living", "Health Care"}, "caregiver cna nursing"},
	{"722511", "Full-Service Restaurants",
	 {"Casa", "Blue Plate", "Harbor", "Old Town", "Sol", "Green Olive"},
	 {"Grill", "Kitchen", "Restaurant"}, "restaurant cook server hospitality"},
	{"721110", "Hotels and Motels",
	 {"Capitol", "Bayshore", "Vista", "Sierra Pines", "Riverfront", "Palm"},
	 {"Hotel", "Inn", "Suites"}, "hotel hospitality housekeeping"},
	{"111219", "Other Vegetable and Melon Farming",
	 {"Sunny Acres", "Valley Fresh", "Rancho", "Green Valley", "Salinas", "Imperial"},
	 {"Farms", "Growers", "Produce"}, "agriculture farmworker harvest"},
	{"524210", "Insurance Agencies and Brokerages",
	 {"Pacific", "Guardian", "Sterling", "Keystone", "Bayside", "Summit"},
	 {"Insurance", "Insurance Services", "Agency"}, "insurance customer service office"},
	{"811111", "General Automotive Repair",
	 {"Main Street", "Pro", "Valley", "Precision", "Freeway", "Hometown"},
	 {"Auto Repair", "Automotive", "Auto Care"}, "automotive mechanic technician"},
};
#define NIND ((unsigned)(sizeof industries / sizeof industries[0]))

static const char *const legal[] = {"Inc.", "LLC", "Corp.", "", "Co.", "", "Inc.", ""};

/* A small deterministic generator (xorshift32) so the demo set never changes. */
static unsigned next_rand(unsigned *s)
{
	unsigned x = *s;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

static int code_row(int line, int nf, char **f, void *arg)
{
	sqlite3_stmt *st = arg;

	if (line == 1)
		return 0; /* header: code,title,dol_category,dol_category_name,system_generated,status */
	if (nf < 6 || f[0][0] == '\0')
		return 0;
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, f[0], -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, f[0], -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, f[1], -1, SQLITE_TRANSIENT);
	if (f[2][0])
		sqlite3_bind_text(st, 4, f[2], -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 4);
	if (f[3][0])
		sqlite3_bind_text(st, 5, f[3], -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 5);
	sqlite3_bind_int(st, 6, strcmp(f[4], "yes") == 0);
	sqlite3_bind_text(st, 7, strcmp(f[5], "retired") == 0 ? "retired" : "active", -1,
			  SQLITE_STATIC);
	return sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
}

static int seed_codes(sqlite3 *db, const char *hlc)
{
	char dir[4096], path[4200];
	sqlite3_stmt *st = NULL;
	int rc;

	if (csv_seed_dir(dir, sizeof dir) != 0) {
		log_warnx("cannot find the seed folder: employer activity codes not loaded");
		return 0; /* the hub's list arrives with the first pull */
	}
	snprintf(path, sizeof path, "%s/employer_activity_codes.csv", dir);
	if (db_prepare(db, &st,
		       "INSERT OR IGNORE INTO employer_activity_codes(id, code, title, dol_category,"
		       " dol_category_name, system_generated, status, updated_hlc)"
		       " VALUES(?,?,?,?,?,?,?,?)") != 0)
		return -1;
	sqlite3_bind_text(st, 8, hlc, -1, SQLITE_STATIC);
	rc = csv_read_file(path, code_row, st);
	sqlite3_finalize(st);
	if (rc != 0)
		log_warnx("cannot read '%s': employer activity codes not loaded", path);
	return rc == 0 ? 0 : -1;
}

static int seed_lists(sqlite3 *db, const char *hlc)
{
	for (size_t i = 0; i < sizeof categories / sizeof categories[0]; i++)
		if (db_run(db,
			   "INSERT OR IGNORE INTO work_item_categories(id, name, sort, active, updated_hlc)"
			   " VALUES(?,?,?,1,?)",
			   "ttit", categories[i].id, categories[i].name, (int)(i + 1) * 10, hlc) != 0)
			return -1;
	for (size_t i = 0; i < sizeof priorities / sizeof priorities[0]; i++)
		if (db_run(db,
			   "INSERT OR IGNORE INTO work_item_priorities(id, name, rank, is_default, active,"
			   " updated_hlc) VALUES(?,?,?,?,1,?)",
			   "ttiit", priorities[i].id, priorities[i].name, priorities[i].rank,
			   priorities[i].def, hlc) != 0)
			return -1;
	return 0;
}

/* One generated company: name, industry, place, street address, phone. */
typedef struct demo_co {
	char name[128], street[96], phone[20], web[96];
	unsigned ind, place;
} demo_co;

static void make_company(unsigned *seed, demo_co *c)
{
	unsigned w, t, l, num;
	char slug[96];
	size_t j = 0;

	c->ind = next_rand(seed) % NIND;
	c->place = next_rand(seed) % NPLACES;
	w = next_rand(seed) % 6;
	t = next_rand(seed) % 3;
	l = next_rand(seed) % (unsigned)(sizeof legal / sizeof legal[0]);
	num = 100 + next_rand(seed) % 9800;
	if (next_rand(seed) % 4 == 0)
		snprintf(c->name, sizeof c->name, "%s %s %s%s%s", places[c->place].city,
			 industries[c->ind].words[w], industries[c->ind].tail[t], legal[l][0] ? " " : "",
			 legal[l]);
	else
		snprintf(c->name, sizeof c->name, "%s %s%s%s", industries[c->ind].words[w],
			 industries[c->ind].tail[t], legal[l][0] ? " " : "", legal[l]);
	snprintf(c->street, sizeof c->street, "%u %s", num,
		 streets[next_rand(seed) % (unsigned)(sizeof streets / sizeof streets[0])]);
	snprintf(c->phone, sizeof c->phone, "(%03u) 555-%04u",
		 200 + next_rand(seed) % 700, next_rand(seed) % 10000);
	for (const char *p = c->name; *p && j + 1 < sizeof slug; p++)
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
			slug[j++] = (char)(*p | 0x20);
	slug[j] = '\0';
	snprintf(c->web, sizeof c->web, "www.%.60s.example.com", slug);
}

static int seed_external(sqlite3 *db, const char *hlc)
{
	unsigned seed = 0x5eed1234u;

	for (unsigned i = 0; i < CRM_DEMO_EXTERNAL; i++) {
		demo_co c;
		char id[48], posted[11];
		unsigned jobs;

		make_company(&seed, &c);
		/* Job orders: most employers post a few, a handful post many. */
		jobs = next_rand(&seed) % 10 == 0 ? 20 + next_rand(&seed) % 130 : 1 + next_rand(&seed) % 12;
		snprintf(id, sizeof id, "crm-ext-%04u", i + 1);
		snprintf(posted, sizeof posted, "2025-%02u-%02u", 1 + next_rand(&seed) % 12,
			 1 + next_rand(&seed) % 28);
		if (db_run(db,
			   "INSERT OR IGNORE INTO external_employers(id, company_name, industry_code,"
			   " industry_title, street, city, state, zip, phone, website, active_job_orders,"
			   " last_posted, active, updated_hlc) VALUES(?,?,?,?,?,?,'CA',?,?,?,?,?,1,?)",
			   "tttttttttitt", id, c.name, industries[c.ind].naics, industries[c.ind].title,
			   c.street, places[c.place].city, places[c.place].zip, c.phone, c.web, (int)jobs,
			   posted, hlc) != 0)
			return -1;
	}
	return 0;
}

static const char *const sizes[] = {"1-4", "5-9", "10-19", "20-49", "50-99", "100-249", "250-499", "500+"};

static int seed_directory(sqlite3 *db, const char *hlc)
{
	unsigned seed = 0xd1ec7042u;

	for (unsigned i = 0; i < CRM_DEMO_DIRECTORY; i++) {
		demo_co c;
		char id[48];
		const char *size;
		int openings;

		make_company(&seed, &c);
		snprintf(id, sizeof id, "crm-dir-%04u", i + 1);
		size = sizes[next_rand(&seed) % 8];
		openings = next_rand(&seed) % 3 == 0;
		if (db_run(db,
			   "INSERT OR IGNORE INTO business_directory(id, name, street, city, county, state,"
			   " zip, phone, website, industry_code, industry_title, keywords, employees,"
			   " has_openings, updated_hlc) VALUES(?,?,?,?,?,'CA',?,?,?,?,?,?,?,?,?)",
			   "ttttttttttttit", id, c.name, c.street, places[c.place].city,
			   places[c.place].county, places[c.place].zip, c.phone, c.web,
			   industries[c.ind].naics, industries[c.ind].title, industries[c.ind].kw, size,
			   openings, hlc) != 0)
			return -1;
	}
	return 0;
}

int crm_seed_lists(sqlite3 *db, const char *hlc)
{
	return seed_codes(db, hlc) == 0 && seed_lists(db, hlc) == 0 ? 0 : -1;
}

int crm_seed_reference(sqlite3 *db, const char *hlc)
{
	if (seed_codes(db, hlc) != 0 || seed_lists(db, hlc) != 0 || seed_external(db, hlc) != 0 ||
	    seed_directory(db, hlc) != 0)
		return -1;
	return 0;
}
