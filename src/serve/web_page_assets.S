/* web_page_assets.S - web_page.html, web_page.css and web_page.js as the C
 * strings of web_page.h. They stay files an editor, eslint and a browser
 * read as they are; .incbin takes them by the paths the Makefile gives in
 * WEB_PAGE_HTML, WEB_PAGE_CSS and WEB_PAGE_JS. Each gets the NUL that ends
 * a C string. */

	.section .rodata

	.globl	web_page_html
	.type	web_page_html, @object
web_page_html:
	.incbin	WEB_PAGE_HTML
	.byte	0
	.size	web_page_html, . - web_page_html

	.globl	web_page_css
	.type	web_page_css, @object
web_page_css:
	.incbin	WEB_PAGE_CSS
	.byte	0
	.size	web_page_css, . - web_page_css

	.globl	web_page_js
	.type	web_page_js, @object
web_page_js:
	.incbin	WEB_PAGE_JS
	.byte	0
	.size	web_page_js, . - web_page_js

/* The data needs no executable stack. */
	.section .note.GNU-stack, "", @progbits
