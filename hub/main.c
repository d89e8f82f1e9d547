/*
 * main.c - outpost-hub (placeholder until the replication work lands).
 */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--version") == 0) {
			printf("outpost-hub %s\n", OUTPOST_VERSION);
			return 0;
		}
		if (strcmp(argv[i], "--help") == 0) {
			printf("usage: outpost-hub [--data DIR] [--listen HOST:PORT]\n");
			return 0;
		}
	}
	fprintf(stderr, "outpost-hub: not implemented yet\n");
	return 1;
}
