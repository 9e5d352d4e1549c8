// Package simweb is the simulated scholarly web used by `oafetch demo`,
// `oafetch sim` and the tests (DESIGN.md §9).
//
// A Server answers, on loopback, the real paths and formats of every
// upstream of reference/apis.md, virtual-hosted by the Host header on the
// real host names (api.openalex.org, api.unpaywall.org, export.arxiv.org,
// arxiv.org, doi.org, api.crossref.org, www.ebi.ac.uk, europepmc.org,
// www.ncbi.nlm.nih.gov, pmc.ncbi.nlm.nih.gov, web.archive.org, archive.org,
// api.semanticscholar.org, api.core.ac.uk, doaj.org, zenodo.org,
// api.archives-ouvertes.fr, hal.science, api.osf.io, api.figshare.com, and
// publisher/repository hosts under example.org, example.com and
// example.edu), over plain HTTP and over HTTPS with its own ECDSA CA that
// issues a leaf certificate per SNI name. Point oafetch at it exactly as a
// user points it at a mirror:
//
//	oafetch pull --connect-to :443:127.0.0.1:PORT1 --connect-to :80:127.0.0.1:PORT2 --ca-file ca.pem …
//
// (Server.ConnectTo and Server.WriteCA give the values.) URLs, Host headers
// and TLS names stay the real ones. /robots.txt allows everything on every
// host but robots.example.org (hostile mode).
//
// # The world
//
// A World is deterministic for (Works, Seed). Works 0, 1 and 2 are the cast
// A, B and C of apis.md §0.1, answered with the sample payloads of
// reference/api-samples (embedded from testdata/api-samples; manifest.json
// maps each cast request to its response). The other works (DOIs
// 10.5555/sim.<n>, OpenAlex ids W9991000000+n) cycle through the routes in
// a seed-shuffled order, so every route holds about Works/22 works. Each
// Work carries the Input to give oafetch (varied spellings) and the code
// (Want) and winning source (WantSource) a correct oafetch ends with.
//
// What each upstream answers, per route. "—" is the service's own
// not-found answer; Unpaywall says "closed" (is_oa false) for every DOI
// work that is not on the unpaywall-pdf route; doi.org sends every DOI
// work not listed otherwise to an abstract page without a full-text link;
// every other service gives its documented empty answer.
//
//	route             ids             where the full text is                                  Want / WantSource
//	unpaywall-pdf     DOI             Unpaywall best_oa_location.url_for_pdf (publisher);      ok-pdf / unpaywall
//	                                  the landing page links it too (a later tier)
//	openalex-pdf      DOI PMID PMCID  OpenAlex best_oa_location.pdf_url (repository)          ok-pdf / openalex
//	arxiv             arXiv id        arxiv.org/pdf/{id}[vN] (Atom at export.arxiv.org)       ok-pdf / arxiv
//	doi-landing       DOI             doi.org → 302 → a landing page in one of the platform   ok-pdf / doi
//	                                  markups below, leading to the PDF
//	crossref-link     DOI             Crossref message.link[] application/pdf text-mining     ok-pdf / crossref
//	europepmc-render  DOI PMID PMCID  Europe PMC search + ?pdf=render → ptpmcrender.fcgi      ok-pdf / europepmc
//	pmc-oa            DOI PMID PMCID  oa.fcgi ftp:// pdf link, served under deprecated/       ok-pdf / pmc
//	                                  (the PMC article PDF route is a proof-of-work page)
//	wayback           DOI OpenAlex    OpenAlex closed (dead pdf_url, landing page); Wayback   ok-pdf / wayback
//	                                  captures of the dead PDF, landing and doi.org URLs
//	semanticscholar   DOI             S2 openAccessPdf.url (eprints.example.edu)              ok-pdf / semanticscholar
//	core              DOI             CORE v3 search downloadUrl (Bearer required)            ok-pdf / core
//	doaj              DOI             DOAJ bibjson.link type fulltext, content_type PDF       ok-pdf / doaj
//	zenodo            DOI             Zenodo search → record file links.self → /content       ok-pdf / zenodo
//	hal               DOI             HAL fileMain_s → /document → 302 → /file/…pdf           ok-pdf / hal
//	osf               DOI (OSF)       OSF preprint 10.31219/osf.io/{guid}: primary_file →     ok-pdf / osf
//	                                  osf.io/download/{id}/ → 302 → files.osf.io
//	figshare          DOI             Figshare search (resource_doi) → "journal contribution" ok-pdf / figshare
//	                                  item → ndownloader.figshare.com/files/{id}
//	figshare-supplement DOI           Figshare holds only a "dataset" of supplementary        no-pdf-link
//	                                  material (a valid PDF that is not the article)
//	closed            OpenAlex        nothing: OpenAlex closed, no landing page               no-oa-location
//	trap-html-as-pdf  OpenAlex        OpenAlex pdf_url serves HTML as application/pdf         wrong-type
//	wall-challenge    DOI OpenAlex    landing: 403 + cf-mitigated: challenge                  blocked-challenge
//	wall-login        DOI OpenAlex    landing: 302 → login form                               blocked-login
//	wall-paywall      DOI OpenAlex    landing: purchase page, no PDF link                     blocked-paywall
//	wall-cookie       DOI OpenAlex    landing: 302 → consent wall                             blocked-cookie
//
// # Landing-page platforms
//
// The doi-landing works rotate, in world order, over Platforms(): each
// landing page imitates one platform's markup (modelled on the pages of
// internal/landing/testdata/corpus) and leads to the work's PDF on the
// publisher host by that platform's technique:
//
//	highwire          citation_pdf_url → /article/{doi}/pdf
//	highwire-cookie   the same page sets sim_session; the PDF is 403 HTML
//	                  without that cookie (the fetch client's jar is needed)
//	ojs               OJS 3 galley link /index.php/sim/article/view/{n}/{g}
//	                  → /article/download/{n}/{g} (no citation_pdf_url)
//	dspace            DSpace 6 file list → /bitstream/handle/123456789/{n}/sim-{n}.pdf
//	atypon            /doi/pdf/{doi} next to an /doi/epdf/ reader link
//	jsonld            script-rendered shell; JSON-LD @graph encoding.contentUrl
//	                  → /files/sim-{n}.pdf
//	signposting       application shell; only the Link header rel="item"
//	                  type="application/pdf" → /download/sim-{n}/article.pdf
//	springer          citation_pdf_url and Download PDF → /content/pdf/{doi}.pdf
//
// OpenAlex knows the cast, openalex-pdf, wayback, closed, trap and wall
// works (the walls' landing_page_url is their doi.org URL); it answers 404
// for the others so that it can never win for them. OSF knows the cast and
// the osf works, Figshare the cast (A's supplement, not the article), the
// figshare and the figshare-supplement works. The
// cast works are reachable through several sources (Work.AltSources).
// TestOracle asks every service about every generated work and checks
// that exactly the winning source offers a full text.
//
// # Hostile mode
//
// Config.Hostile adds eleven routes to the cycle, each an OpenAlex-only work
// (input W…) whose only lead, on maze.example.com, misbehaves:
//
//	hostile-redirect-chain    11 redirects before the PDF                      max-hops
//	hostile-redirect-loop     a → b → a                                        redirect-loop
//	hostile-private-redirect  302 to 127.0.0.1:9, [::1]:9, 169.254.169.254,    skip-blocklist
//	                          10.0.0.1 (the guard must refuse before sending)
//	hostile-private-link      landing page whose citation_pdf_url is private   skip-blocklist
//	hostile-gzip-bomb         Content-Encoding gzip inflating to 300 MiB       too-large
//	hostile-length-lie        Content-Length 4 KiB longer than the body        truncated
//	hostile-drip              the PDF in 4 KiB chunks every 5 ms               ok-pdf / openalex
//	hostile-filename          Content-Disposition filename="../../x"           ok-pdf / openalex
//	hostile-js-as-pdf         JavaScript as application/pdf                    wrong-type
//	hostile-other-work        a valid PDF of another work                      wrong-work
//	hostile-robots            landing page on a host whose robots.txt          skip-robots
//	                          disallows it (robots.example.org)
//
// The skip-blocklist codes assume the private-address guard is on (only
// connect-to targets trusted); the private ports are closed either way.
//
// Full texts are valid PDF 1.4 files of 20–120 KiB whose bytes depend only
// on the work; the first page and the Info dictionary carry its title and
// DOI (or arXiv/OpenAlex id). They are served with Range, HEAD, ETag and
// Last-Modified support.
//
// # Faults
//
// Config.Faults (or Server.SetFaults) inject, per host and path prefix and
// for a number of requests: 429 with or without Retry-After (seconds or an
// HTTP date from Config.Clock), 5xx, connection resets, stalls, truncated
// bodies, a Content-Length shorter than the body, and slow drips.
//
// Every request is logged (Server.Requests) with its host, path, a subset
// of headers, status and body bytes.
package simweb
