/* web_page.h - memleakd's live page, served at /: one self-contained HTML
 * document, its style and script inline, that polls history.json and
 * shows each process's flame graph (flame.svg) and charts. Its sources are
 * web_page.html, web_page.css and web_page.js; web_page_assets.S embeds
 * them. */
#ifndef WEB_PAGE_H
#define WEB_PAGE_H

#include <stddef.h>

/* The page's skeleton, holding the markers where the style and the script
 * go, and those two. */
extern const char web_page_html[];
extern const char web_page_css[];
extern const char web_page_js[];

/* The page: web_page_html with the style and the script in place of their
 * markers. Returns 0 with *out (malloc'd, the caller frees it) and *len, or
 * -ENOMEM, or -EINVAL when a marker is missing or the script holds
 * "</script" (it would end the element early). */
int web_page_build(char **out, size_t *len);

#endif
