/* flame_graph_assets.h - the inline style and script of the SVG flame graph
 * (report_svg.c): hover details, click to zoom, search. The document works
 * offline: nothing is loaded from the network. Their sources are
 * flame_graph.css and flame_graph.js; flame_graph_assets.S embeds them. */
#ifndef FLAME_GRAPH_ASSETS_H
#define FLAME_GRAPH_ASSETS_H

/* CSS for <style>, without "]]>" so it sits in a CDATA section. */
extern const char flame_graph_css[];
/* ECMAScript for <script>, without "]]>". It reads the layout from the
 * root's data-pad (left margin), data-fw (frames' width) and data-cw (a
 * character's width), each frame (g.f) from data-x and data-b (bytes left
 * of it and its bytes), data-d (depth) and its <title> ("name\ndetails"),
 * and uses the elements #details, #matched, #unzoom, #search and #clear. */
extern const char flame_graph_js[];

#endif
