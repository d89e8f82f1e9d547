# pages.awk - write out the head that every staff page shares.  A page whose
# first line is
#   <!--#page title="Case work — Outpost" css="/case.css" js="/case.js"-->
# gets in its place the doctype, the <head> (utf-8, the viewport, the title,
# /app.css then each of css, /nav.js then each of js: lists separated by
# spaces) and the top of the <body>: the skip link and the header that
# nav.js fills.  A page signed-out visitors see (sign-in, 404) names its
# brand instead: brand="Outpost hub console" gives no nav.js and a header
# that shows the brand, a link to home="/" when that is given.  Every other
# line, and every other page, passes through.
# The build runs it on webui/node/*.html and webui/hub/*.html before
# embedding them (Makefile, assets_node.c and assets_hub.c).
# Usage: awk -f tools/pages.awk page.html > out.html
function attr(s, name) {
	if (!match(s, name "=\"[^\"]*\""))
		return ""
	return substr(s, RSTART + length(name) + 2, RLENGTH - length(name) - 3)
}
FNR == 1 && /^<!--#page / {
	ncss = split(attr($0, "css"), css, " ")
	njs = split(attr($0, "js"), js, " ")
	print "<!doctype html>"
	print "<html lang=\"en\">"
	print "<head>"
	print "<meta charset=\"utf-8\">"
	print "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	print "<title>" attr($0, "title") "</title>"
	print "<link rel=\"stylesheet\" href=\"/app.css\">"
	for (i = 1; i <= ncss; i++)
		print "<link rel=\"stylesheet\" href=\"" css[i] "\">"
	brand = attr($0, "brand")
	home = attr($0, "home")
	if (brand == "")
		print "<script type=\"module\" src=\"/nav.js\"></script>"
	for (i = 1; i <= njs; i++)
		print "<script type=\"module\" src=\"" js[i] "\"></script>"
	print "</head>"
	print "<body>"
	print "<a class=\"skip\" href=\"#main\">Skip to content</a>"
	if (brand == "")
		print "<header class=\"top\" id=\"top\"></header>"
	else if (home == "")
		print "<header class=\"top\"><div class=\"bar\"><span class=\"brand\">" brand "</span></div></header>"
	else
		print "<header class=\"top\"><div class=\"bar\"><a class=\"brand\" href=\"" home "\">" brand "</a></div></header>"
	next
}
{ print }
