/*
 * cleanname.c: lexical path cleaning, as Plan 9's cleanname(2): the
 * shortest name equivalent to the original by purely lexical processing.
 */
#include <string.h>

#include "util.h"

char *
cleanname(char *name)
{
	char *p, *q, *dotdot;
	int rooted, erasedprefix;

	rooted = name[0] == '/';
	erasedprefix = 0;
	p = q = dotdot = name + rooted;
	while(*p){
		if(p[0] == '/')
			p++;
		else if(p[0] == '.' && (p[1] == '/' || p[1] == 0)){
			if(p == name)
				erasedprefix = 1;
			p++;
		}else if(p[0] == '.' && p[1] == '.' && (p[2] == '/' || p[2] == 0)){
			p += 2;
			if(q > dotdot){
				/* can back up: drop the last element */
				while(--q > dotdot && *q != '/')
					;
			}else if(!rooted){
				/* cannot back up: keep the .. */
				if(q != name)
					*q++ = '/';
				*q++ = '.';
				*q++ = '.';
				dotdot = q;
			}
			if(q == name)
				erasedprefix = 1;
		}else{
			if(q != name + rooted)
				*q++ = '/';
			while((*q = *p) != '/' && *q != 0)
				p++, q++;
		}
	}
	if(q == name)
		*q++ = '.';
	*q = 0;
	/* "./#c" names a file, not a device: keep it from becoming "#c". */
	if(erasedprefix && name[0] == '#'){
		memmove(name + 2, name, strlen(name) + 1);
		name[0] = '.';
		name[1] = '/';
	}
	return name;
}
