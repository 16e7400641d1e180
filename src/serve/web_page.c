/* web_page.c - the live page assembled once, when the server starts: the
 * skeleton with the style and the script put in place of its markers, so
 * the three stay files of their own language and the page one document. */
#include "serve/web_page.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CSS_MARKER "/*@CSS@*/"
#define JS_MARKER "/*@JS@*/"

int web_page_build(char **out, size_t *len)
{
	const char *css = strstr(web_page_html, CSS_MARKER);
	const char *js = strstr(web_page_html, JS_MARKER);
	size_t n_css = strlen(web_page_css), n_js = strlen(web_page_js);
	size_t n, at = 0;
	char *page;

	if (!css || !js || js < css || strstr(web_page_js, "</script") ||
	    strstr(web_page_css, "</style"))
		return -EINVAL;
	n = strlen(web_page_html) - strlen(CSS_MARKER) - strlen(JS_MARKER) + n_css + n_js;
	page = malloc(n + 1);
	if (!page)
		return -ENOMEM;
	memcpy(page, web_page_html, (size_t)(css - web_page_html));
	at = (size_t)(css - web_page_html);
	memcpy(page + at, web_page_css, n_css);
	at += n_css;
	css += strlen(CSS_MARKER);
	memcpy(page + at, css, (size_t)(js - css));
	at += (size_t)(js - css);
	memcpy(page + at, web_page_js, n_js);
	at += n_js;
	js += strlen(JS_MARKER);
	strcpy(page + at, js);
	*out = page;
	*len = n;
	return 0;
}
