/*
 * tool_main.c - outpost-sync (placeholder until the replication work lands).
 */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--version") == 0) {
			printf("outpost-sync %s\n", OUTPOST_VERSION);
			return 0;
		}
		if (strcmp(argv[i], "--help") == 0) {
			printf("usage: outpost-sync COMMAND [--data DIR] [--json]\n");
			return 0;
		}
	}
	fprintf(stderr, "outpost-sync: not implemented yet\n");
	return 1;
}
