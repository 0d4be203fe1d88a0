// SPDX-License-Identifier: GPL-2.0
/*
 * --json: values built a field at a time, commas placed by nesting depth.
 * Every command that prints data prints one JSON value (watch: one a line).
 */
#include <stdbool.h>
#include <stdio.h>

#include "memtopoctl.h"

static bool jmore[16];
static int jdepth;

void jopen(char c)
{
	putchar(c);
	jmore[++jdepth] = false;
}

void jclose(char c)
{
	putchar(c);
	jdepth--;
}

void jelem(void)
{
	if (jmore[jdepth])
		fputs(", ", stdout);
	jmore[jdepth] = true;
}

void jkey(const char *key)
{
	jelem();
	printf("\"%s\": ", key);
}

void jnum(const char *key, unsigned long long v)
{
	jkey(key);
	printf("%llu", v);
}

void jint(const char *key, long long v)
{
	jkey(key);
	printf("%lld", v);
}

void jstr(const char *key, const char *v)
{
	jkey(key);
	mt_json_str(v);
}

void jflag(const char *key, unsigned int v)
{
	jkey(key);
	fputs(v ? "true" : "false", stdout);
}

void mt_json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}
