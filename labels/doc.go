// Package labels renders the service's printed matter as PDF: the waybill
// label of a parcel (100 × 150 mm, for thermal label printers), print
// batches of them (one label per page) and A4 sheets of four for offices
// without a label printer, the bag label of a consolidation run, and the
// run's handover manifest (交接清单, A4).
//
// The package is pure: a Renderer writes to an io.Writer and touches no
// database, network or log. It is created once (NewRenderer parses the
// embedded fonts) and is safe for concurrent use.
//
// # Privacy
//
// Callers pass full personal data; the package masks it, so no caller can
// forget to: the recipient's name as shipment.MaskName ("张*三"), the phone
// as shipment.MaskPhoneLabel ("138********": none of the last four digits,
// which open the public detail view), an express address as
// shipment.Address.MaskForLabel (house numbers starred, unit and room left
// out), as GB/T 41833-2022 and PRODUCT.md require. Certificate numbers are
// not even accepted: a label shows the certificate type only.
//
// # Fonts and rare characters
//
// Text is set in WenQuanYi Micro Hei cut to ASCII plus GBK (labels/fonts),
// embedded as a TrueType subset holding only the glyphs a document uses.
// Every character is checked against the fonts before it is drawn:
//
//   - in the primary font: drawn as text;
//   - in the fallback outlines taken from HanaMinA/HanaMinB (CJK Extension
//     A, Extensions B–F, compatibility ideographs, e.g. 䶮 and 𠮷): drawn as
//     a filled vector path, wrapped in a marked-content span whose
//     /ActualText holds the character, so pdftotext and search still find
//     it. (fpdf cannot print characters beyond the BMP at all; it panics.)
//   - in no font (a private-use character, U+10FFFD): printed as its code
//     point in a box ("U+10FFFD") and reported in Flags, so a person can
//     check the label; never dropped silently.
//
// Variation selectors are not printed. Text that does not fit its area is
// wrapped and shrunk, never cut; lines break between any two hanzi without
// losing one (fpdf's MultiCell drops a hanzi at every automatic break, so
// the package wraps text itself).
//
// # Codes
//
// The waybill label carries the number as large text, as Code 128 and as a
// QR code of the parcel's public tracking address, upper-cased so that it
// fits QR's alphanumeric mode (TrackURL: "HTTPS://HOST/T/CP…"; the routes
// must accept /T/ as well as /t/). Bag labels and manifests encode the bare
// bag or run number. Codes are drawn as vector rectangles, with quiet zones.
//
// # Errors
//
// Nothing is written to the io.Writer unless the whole document rendered:
// input is checked first, the document is built in memory, and only then
// written out. Errors are *apperr.Error values (codes listed in errors.go):
// "label.waybill_invalid", "label.field_invalid", "label.batch_empty",
// "label.batch_too_large", "label.batch_invalid", "label.bag_no_invalid",
// "label.run_no_invalid", "label.manifest_empty", "label.manifest_too_large",
// "label.manifest_invalid", "label.render_failed". Batch errors name every
// offending label at once (argument "items").
package labels
