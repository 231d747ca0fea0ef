/*
 * fuzz_cmd.c: libFuzzer target for the namespace command parser.  Any
 * line ns_parseline accepts must format to text that parses back to the
 * same command and formats to the same text again; anything else aborts.
 * Build: see tests/fuzz/README.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ns9.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static void
fail(const char *why, const char *line, const char *t1, const char *t2)
{
	fprintf(stderr, "fuzz_cmd: %s\n", why);
	fprintf(stderr, "  input: %s\n  text1: %s\n  text2: %s\n", line, t1 ? t1 : "(none)",
		t2 ? t2 : "(none)");
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	NsCmd c, d;
	char *line, *t1, *t2;
	int r;

	line = malloc(size + 1);
	if(line == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = 0;
	r = ns_parseline(&c, line);
	if(r < 0 && errtext()[0] == 0)
		fail("error without text", line, NULL, NULL);
	if(r != 1){
		free(line);
		return 0;
	}
	/* What the parser may produce. */
	if(c.old == NULL || (c.verb != NS_UNMOUNT && c.verb != NS_CD && c.new == NULL) ||
	   (c.flag & ~NS_MMASK) != 0 || (c.flag & NS_MORDER) == NS_MORDER ||
	   (c.spec != NULL && c.spec[0] == 0))
		fail("malformed NsCmd", line, NULL, NULL);

	t1 = ns_fmtcmd(&c);
	r = ns_parseline(&d, t1);
	if(r != 1)
		fail(r == 0 ? "formatted text reads as blank" : errtext(), line, t1, NULL);
	if(!ns_cmdeq(&c, &d))
		fail("reparsed command differs", line, t1, NULL);
	t2 = ns_fmtcmd(&d);
	if(strcmp(t1, t2) != 0)
		fail("second format differs", line, t1, t2);
	free(t2);
	free(t1);
	ns_freecmd(&d);
	ns_freecmd(&c);
	free(line);
	return 0;
}
