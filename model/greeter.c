/*
 * greeter.c - visit state machine and visitor field rules; see greeter.h.
 */
#include "model/greeter.h"
#include "lib/json.h"

#include <ctype.h>
#include <string.h>

static const struct {
	const char *action, *from, *to;
} moves[] = {
	{"call", "waiting", "called"},
	{"serve", "waiting", "serving"},
	{"serve", "called", "serving"},
	{"done", "called", "done"},
	{"done", "serving", "done"},
	{"left", "waiting", "left"},
	{"left", "called", "left"},
	{"requeue", "called", "waiting"},
	{"requeue", "serving", "waiting"},
};

const char *greeter_transition(const char *from, const char *action)
{
	if (from == NULL || action == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof moves / sizeof moves[0]; i++)
		if (strcmp(moves[i].action, action) == 0 && strcmp(moves[i].from, from) == 0)
			return moves[i].to;
	return NULL;
}

int greeter_valid_status(const char *s)
{
	static const char *const st[] = {"waiting", "called", "serving", "done", "left"};

	for (size_t i = 0; s && i < sizeof st / sizeof st[0]; i++)
		if (strcmp(s, st[i]) == 0)
			return 0;
	return -1;
}

int greeter_valid_language(const char *s)
{
	return s && (strcmp(s, "en") == 0 || strcmp(s, "es") == 0) ? 0 : -1;
}

int greeter_valid_phone(const char *s)
{
	int digits = json_phone_digits(s, " +-().");

	return digits >= 7 && digits <= 15 ? 0 : -1;
}

int greeter_valid_email(const char *s)
{
	return json_valid_email(s);
}
