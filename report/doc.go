// Package report renders a research run's report: report.md (Markdown,
// with the plots as SVG files beside it) and report.html, one
// self-contained page with the plots as inline SVG, inline CSS, no
// scripts, and nothing that loads from anywhere.
//
// The report is built from a plain Data struct that the caller fills from
// the store and the phases; the package imports nothing else of mlrc.
// Every part may be missing (no validation, no steps, no alternatives):
// its section then says so instead of failing.
//
// Text from models, papers and diffs is escaped: by html/template in the
// HTML, and in the Markdown so that no link, image or HTML tag in it takes
// effect. The plots are drawn with gonum.org/v1/plot and written by vgsvg
// without embedded fonts; their text asks for Liberation Sans and falls
// back to Arial, Helvetica and any sans-serif font on the machine.
package report
