/* flame_graph_assets.S - flame_graph.css and flame_graph.js as the C
 * strings of flame_graph_assets.h. The style and script of the SVG flame
 * graph stay files that an editor, eslint and a browser read as CSS and
 * JavaScript; .incbin takes the copies the Makefile makes of them in the
 * build directory, named by FLAME_GRAPH_CSS and FLAME_GRAPH_JS: without
 * comment and blank lines, and checked to hold no "]]>". Each gets the NUL
 * that ends a C string. */

	.section .rodata

	.globl	flame_graph_css
	.type	flame_graph_css, @object
flame_graph_css:
	.incbin	FLAME_GRAPH_CSS
	.byte	0
	.size	flame_graph_css, . - flame_graph_css

	.globl	flame_graph_js
	.type	flame_graph_js, @object
flame_graph_js:
	.incbin	FLAME_GRAPH_JS
	.byte	0
	.size	flame_graph_js, . - flame_graph_js

/* The data needs no executable stack. */
	.section .note.GNU-stack, "", @progbits
