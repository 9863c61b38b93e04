// SPDX-License-Identifier: MIT
/* UTF-8 checks for strings that come from outside (target memory, paths, config). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "utf8.h"

int utf8_seq_len(const unsigned char *s)
{
	int n;
	uint32_t c;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		n = 2, c = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, c = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past Unicode are invalid too. */
	if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return n;
}

json_t *utf8_json_string(const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	size_t len = strlen((const char *)s), o = 0;
	char *buf;
	json_t *j;

	/* The common case: valid already. */
	j = json_stringn((const char *)s, len);
	if (j)
		return j;
	buf = malloc(3 * len + 1);	/* each bad byte becomes 3 */
	if (!buf)
		return NULL;
	while (*s) {
		int n = utf8_seq_len(s);

		if (n) {
			memcpy(buf + o, s, n);
			o += n;
			s += n;
		} else {
			memcpy(buf + o, "\xef\xbf\xbd", 3);
			o += 3;
			s++;
		}
	}
	j = json_stringn(buf, o);
	free(buf);
	return j;
}
