package simweb

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// Route says how a simulated work's full text can be reached. The doc.go
// table describes what every upstream answers for each route.
type Route string

// The routes of the simulated world.
const (
	// RouteCast marks the reference works A, B and C of apis.md §0.1,
	// served with the sample payloads.
	RouteCast Route = "cast"
	// RouteUnpaywall: only Unpaywall's best_oa_location.url_for_pdf
	// (publisher host) leads to the PDF.
	RouteUnpaywall Route = "unpaywall-pdf"
	// RouteOpenAlex: only OpenAlex's best_oa_location.pdf_url (repository
	// host) leads to the PDF; Unpaywall says closed.
	RouteOpenAlex Route = "openalex-pdf"
	// RouteArXiv: an arXiv-only preprint; the PDF is at arxiv.org/pdf/{id}.
	RouteArXiv Route = "arxiv"
	// RouteLanding: doi.org redirects to a publisher landing page that
	// leads to the PDF, in the markup of one of Platforms() (rotating over
	// the route's works); no API knows a copy.
	RouteLanding Route = "doi-landing"
	// RouteClosed: an OpenAlex-only work with no copy anywhere.
	RouteClosed Route = "closed"
	// RouteWrongType: the only pdf_url serves HTML as application/pdf.
	RouteWrongType Route = "trap-html-as-pdf"
	// RouteChallenge: the landing page is a Cloudflare challenge.
	RouteChallenge Route = "wall-challenge"
	// RouteLogin: the landing page redirects to a login form.
	RouteLogin Route = "wall-login"
	// RoutePaywall: the landing page is a purchase page.
	RoutePaywall Route = "wall-paywall"
	// RouteCookie: the landing page redirects to a cookie consent wall.
	RouteCookie Route = "wall-cookie"
	// RouteCrossref: only Crossref's message.link[] (text-mining PDF).
	RouteCrossref Route = "crossref-link"
	// RouteEuropePMC: only Europe PMC (search fullTextUrlList, the
	// ?pdf=render redirect chain, fullTextXML).
	RouteEuropePMC Route = "europepmc-render"
	// RoutePMC: only the PMC OA service (oa.fcgi pdf link, ftp → https,
	// moved under deprecated/); the PMC article PDF route is a
	// proof-of-work page.
	RoutePMC Route = "pmc-oa"
	// RouteWayback: the publisher copy is gone; a Wayback capture remains.
	RouteWayback Route = "wayback"
	// RouteS2: only Semantic Scholar's openAccessPdf.
	RouteS2 Route = "semanticscholar"
	// RouteCORE: only CORE's downloadUrl (API needs a Bearer token).
	RouteCORE Route = "core"
	// RouteDOAJ: only DOAJ's bibjson.link (type fulltext).
	RouteDOAJ Route = "doaj"
	// RouteZenodo: only a Zenodo record's file.
	RouteZenodo Route = "zenodo"
	// RouteHAL: only HAL's fileMain_s.
	RouteHAL Route = "hal"
	// RouteOSF: an OSF preprint (DOI 10.31219/osf.io/{guid}); only OSF's
	// primary file, behind osf.io/download/{id}/ → files.osf.io.
	RouteOSF Route = "osf"
	// RouteFigshare: only a Figshare item (an institutional repository copy,
	// "journal contribution") whose resource_doi is the work's DOI.
	RouteFigshare Route = "figshare"
	// RouteFigshareSupplement: Figshare holds only the work's supplementary
	// material (a "dataset" item whose PDF is not the article); nothing
	// else has a copy. Taking the supplement would be wrong.
	RouteFigshareSupplement Route = "figshare-supplement"
)

// The hostile routes, added to the world only when Config.Hostile is set.
// Each is an OpenAlex-only work (input W…) whose only lead misbehaves.
const (
	// RouteRedirectChain: pdf_url starts a chain of 11 redirects.
	RouteRedirectChain Route = "hostile-redirect-chain"
	// RouteRedirectLoop: pdf_url redirects a → b → a.
	RouteRedirectLoop Route = "hostile-redirect-loop"
	// RoutePrivateRedirect: pdf_url redirects to 127.0.0.1:9, [::1]:9,
	// 169.254.169.254 or 10.0.0.1 (refused by the private-address guard).
	RoutePrivateRedirect Route = "hostile-private-redirect"
	// RoutePrivateLink: the landing page's citation_pdf_url is a private
	// address.
	RoutePrivateLink Route = "hostile-private-link"
	// RouteGzipBomb: a gzip body that inflates to 300 MiB.
	RouteGzipBomb Route = "hostile-gzip-bomb"
	// RouteLengthLie: Content-Length announces more than is sent.
	RouteLengthLie Route = "hostile-length-lie"
	// RouteDrip: the PDF arrives in small chunks; it does complete.
	RouteDrip Route = "hostile-drip"
	// RouteBadFilename: the PDF comes with Content-Disposition
	// filename="../../x" (which oafetch never uses).
	RouteBadFilename Route = "hostile-filename"
	// RouteJSAsPDF: JavaScript served as application/pdf.
	RouteJSAsPDF Route = "hostile-js-as-pdf"
	// RouteOtherWork: a valid PDF, but of a different work.
	RouteOtherWork Route = "hostile-other-work"
	// RouteRobots: the only lead is a landing page that robots.txt
	// disallows.
	RouteRobots Route = "hostile-robots"
)

var hostileRoutes = []Route{
	RouteRedirectChain, RouteRedirectLoop, RoutePrivateRedirect, RoutePrivateLink, RouteGzipBomb,
	RouteLengthLie, RouteDrip, RouteBadFilename, RouteJSAsPDF, RouteOtherWork, RouteRobots,
}

// HostileRoutes returns the routes Config.Hostile adds.
func HostileRoutes() []Route { return append([]Route(nil), hostileRoutes...) }

func isHostile(r Route) bool {
	for _, h := range hostileRoutes {
		if h == r {
			return true
		}
	}
	return false
}

// generatedRoutes are the routes of works 3…N, in their base order; the
// world shuffles this order per cycle with its seed.
var generatedRoutes = []Route{
	RouteUnpaywall, RouteOpenAlex, RouteArXiv, RouteLanding, RouteClosed,
	RouteWrongType, RouteChallenge, RouteLogin, RoutePaywall, RouteCookie,
	RouteCrossref, RouteEuropePMC, RoutePMC, RouteWayback, RouteS2, RouteCORE,
	RouteDOAJ, RouteZenodo, RouteHAL, RouteOSF, RouteFigshare, RouteFigshareSupplement,
}

// Routes returns every route of generated works.
func Routes() []Route { return append([]Route(nil), generatedRoutes...) }

// Work is one simulated work and the outcome a correct oafetch reaches
// when given Input.
type Work struct {
	IDs   fulltext.IDs
	Title string
	Year  int
	Route Route
	// Want is the code oafetch must end with.
	Want fulltext.Code
	// WantSource is the source that should win when Want is ok-*.
	WantSource string
	// AltSources lists other sources that may legitimately win: the cast
	// works are reachable through several sources at once.
	AltSources []string
	// Input is the identifier to give oafetch, in a varied spelling.
	Input string

	n        int // index in the world
	platform int // ordinal among the doi-landing works (Platform rotation)
}

// Index is the work's position in World.Works.
func (wk Work) Index() int { return wk.n }

// World is the deterministic population of works for one (Works, Seed).
// It is immutable after NewWorld and safe for concurrent use.
type World struct {
	Works []Work

	byDOI      map[string]int
	byOpenAlex map[string]int
	byPMID     map[string]int
	byPMCID    map[string]int
	byArXiv    map[string]int
}

var (
	titleAdj  = []string{"Adaptive", "Robust", "Sparse", "Stochastic", "Bayesian", "Distributed", "Nonlinear", "Comparative", "Longitudinal", "Scalable", "Hierarchical", "Empirical", "Latent", "Dynamic", "Minimal"}
	titleNoun = []string{"Sampling", "Inference", "Estimation", "Consensus", "Networks", "Models", "Dynamics", "Surveys", "Patterns", "Signals", "Bounds", "Archives", "Protocols", "Measures", "Methods"}
	titleTail = []string{"in Coastal Wetlands", "for Rare Species", "under Partial Observation", "of Urban Heat Islands", "with Missing Data", "across Alpine Valleys", "in Medieval Trade Records", "for Sensor Arrays", "of Soil Microbiomes", "in Clinical Cohorts", "under Intermittent Links", "for Citation Graphs"}
)

// NewWorld builds the world for cfg: works 0, 1 and 2 are the cast A, B
// and C; the others are generated from cfg.Seed. The same (Works, Seed)
// always gives the same world.
func NewWorld(cfg Config) *World {
	cfg = cfg.withDefaults()
	w := &World{
		byDOI: map[string]int{}, byOpenAlex: map[string]int{}, byPMID: map[string]int{},
		byPMCID: map[string]int{}, byArXiv: map[string]int{},
	}
	cast := castWorks()
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5eedf00d))
	routes := generatedRoutes
	if cfg.Hostile {
		routes = append(append([]Route(nil), generatedRoutes...), hostileRoutes...)
	}
	var order []Route
	landings := 0
	for i := range cfg.Works {
		var wk Work
		if i < len(cast) {
			wk = cast[i]
		} else {
			if len(order) == 0 {
				order = append([]Route(nil), routes...)
				rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
			}
			wk = generate(i, order[0], rng)
			order = order[1:]
		}
		wk.n = i
		if wk.Route == RouteLanding {
			wk.platform = landings
			landings++
		}
		w.Works = append(w.Works, wk)
		w.index(i)
	}
	return w
}

func (w *World) index(i int) {
	ids := w.Works[i].IDs
	if ids.DOI != "" {
		w.byDOI[ids.DOI] = i
	}
	if ids.OpenAlex != "" {
		w.byOpenAlex[ids.OpenAlex] = i
	}
	if ids.PMID != "" {
		w.byPMID[ids.PMID] = i
	}
	if ids.PMCID != "" {
		w.byPMCID[ids.PMCID] = i
	}
	if ids.ArXiv != "" {
		w.byArXiv[ids.ArXiv] = i
	}
}

// Lookup finds the work that carries id, in any spelling fulltext.ParseID
// accepts.
func (w *World) Lookup(id string) (Work, bool) {
	wid, err := fulltext.ParseID(id)
	if err != nil {
		return Work{}, false
	}
	var m map[string]int
	switch wid.Kind {
	case fulltext.KindDOI:
		m = w.byDOI
	case fulltext.KindOpenAlex:
		m = w.byOpenAlex
	case fulltext.KindPMID:
		m = w.byPMID
	case fulltext.KindPMCID:
		m = w.byPMCID
	case fulltext.KindArXiv:
		m = w.byArXiv
	}
	i, ok := m[wid.Value]
	if !ok {
		return Work{}, false
	}
	return w.Works[i], true
}

func castWorks() []Work {
	return []Work{
		{
			IDs:   fulltext.IDs{DOI: "10.5555/jsim.2021.0042", PMID: "39990001", PMCID: "PMC9990001", OpenAlex: "W9990000001"},
			Title: "Adaptive Sampling Strategies for Sparse Ecological Surveys", Year: 2021,
			Route: RouteCast, Want: fulltext.CodeOKPDF, WantSource: "openalex",
			AltSources: []string{"unpaywall", "pmc", "europepmc", "crossref", "doi"},
			Input:      "10.5555/jsim.2021.0042",
		},
		{
			IDs:   fulltext.IDs{DOI: "10.5555/tcs.2019.117", ArXiv: "1905.99123", OpenAlex: "W9990000002"},
			Title: "A Lower Bound for Distributed Consensus under Intermittent Links", Year: 2019,
			Route: RouteCast, Want: fulltext.CodeOKPDF, WantSource: "openalex",
			AltSources: []string{"unpaywall", "arxiv", "core", "zenodo", "hal", "semanticscholar"},
			Input:      "https://doi.org/10.5555/tcs.2019.117",
		},
		{
			IDs:   fulltext.IDs{DOI: "10.5555/hist.1998.003", OpenAlex: "W9990000003"},
			Title: "Trade Networks of the Hanseatic Periphery, 1350–1450", Year: 1998,
			Route: RouteCast, Want: fulltext.CodeOKPDF, WantSource: "wayback",
			Input: "doi:10.5555/hist.1998.003",
		},
	}
}

// generate makes work i on route r. Every random draw happens whatever the
// route so that the stream stays aligned.
func generate(i int, r Route, rng *rand.Rand) Work {
	title := fmt.Sprintf("%s %s %s", titleAdj[rng.IntN(len(titleAdj))],
		titleNoun[rng.IntN(len(titleNoun))], titleTail[rng.IntN(len(titleTail))])
	year := 1995 + rng.IntN(31)
	spelling := rng.IntN(6)
	wk := Work{Title: title, Year: year, Route: r, Want: fulltext.CodeOKPDF}
	doi := fmt.Sprintf("10.5555/sim.%d", i)
	oa := fmt.Sprintf("W%d", 9991000000+i)
	switch r {
	case RouteUnpaywall, RouteLanding, RouteCrossref, RouteS2, RouteCORE, RouteDOAJ, RouteZenodo, RouteHAL, RouteFigshare:
		wk.IDs = fulltext.IDs{DOI: doi}
		wk.WantSource = map[Route]string{RouteUnpaywall: "unpaywall", RouteLanding: "doi", RouteCrossref: "crossref",
			RouteS2: "semanticscholar", RouteCORE: "core", RouteDOAJ: "doaj", RouteZenodo: "zenodo", RouteHAL: "hal",
			RouteFigshare: "figshare"}[r]
		wk.Input = doiSpelling(doi, spelling)
	case RouteOSF:
		wk.IDs = fulltext.IDs{DOI: fmt.Sprintf("10.31219/osf.io/%s", osfGUID(i))}
		wk.WantSource = "osf"
		wk.Input = doiSpelling(wk.IDs.DOI, spelling)
	case RouteFigshareSupplement:
		wk.IDs = fulltext.IDs{DOI: doi}
		wk.Want = fulltext.CodeNoPDFLink
		wk.Input = doiSpelling(doi, spelling)
	case RouteEuropePMC, RoutePMC:
		wk.IDs = fulltext.IDs{DOI: doi, PMID: fmt.Sprint(39991000 + i), PMCID: fmt.Sprintf("PMC%d", 9991000+i)}
		wk.WantSource = map[Route]string{RouteEuropePMC: "europepmc", RoutePMC: "pmc"}[r]
		wk.Input = []string{wk.IDs.PMCID, "pmcid:" + wk.IDs.PMCID, "https://pmc.ncbi.nlm.nih.gov/articles/" + wk.IDs.PMCID + "/",
			"pmid:" + wk.IDs.PMID, "doi:" + doi, strings.ToLower(wk.IDs.PMCID)}[spelling]
	case RouteWayback:
		wk.IDs = fulltext.IDs{DOI: doi, OpenAlex: oa}
		wk.WantSource = "wayback"
		wk.Input = doiSpelling(doi, spelling)
	case RouteOpenAlex:
		wk.IDs = fulltext.IDs{DOI: doi, OpenAlex: oa, PMID: fmt.Sprint(39991000 + i), PMCID: fmt.Sprintf("PMC%d", 9991000+i)}
		wk.WantSource = "openalex"
		wk.Input = []string{oa, "https://openalex.org/" + oa, "doi:" + doi, "https://doi.org/" + doi,
			"pmid:" + wk.IDs.PMID, wk.IDs.PMCID}[spelling]
	case RouteArXiv:
		id := fmt.Sprintf("%02d%02d.%05d", 15+year%10, 1+i%12, 10000+i)
		if spelling == 0 {
			id = fmt.Sprintf("math/%02d%02d%03d", 5+i/12000%5, 1+i/1000%12, i%1000)
		}
		wk.IDs = fulltext.IDs{ArXiv: id}
		wk.WantSource = "arxiv"
		wk.Input = []string{"arXiv:" + id, "arXiv:" + id, "arXiv:" + id + "v2", "https://arxiv.org/abs/" + id,
			"arxiv:" + id, "https://arxiv.org/pdf/" + id + "v1"}[spelling]
	case RouteClosed, RouteWrongType:
		wk.IDs = fulltext.IDs{OpenAlex: oa}
		wk.Want = map[Route]fulltext.Code{RouteClosed: fulltext.CodeNoOALocation, RouteWrongType: fulltext.CodeWrongType}[r]
		wk.Input = []string{oa, "https://openalex.org/" + oa, "openalex:" + oa}[spelling%3]
	case RouteRedirectChain, RouteRedirectLoop, RoutePrivateRedirect, RoutePrivateLink, RouteGzipBomb,
		RouteLengthLie, RouteDrip, RouteBadFilename, RouteJSAsPDF, RouteOtherWork, RouteRobots:
		wk.IDs = fulltext.IDs{OpenAlex: oa}
		wk.Input = oa
		wk.Want = map[Route]fulltext.Code{
			RouteRedirectChain: fulltext.CodeMaxHops, RouteRedirectLoop: fulltext.CodeRedirectLoop,
			RoutePrivateRedirect: fulltext.CodeSkipBlocklist, RoutePrivateLink: fulltext.CodeSkipBlocklist,
			RouteGzipBomb: fulltext.CodeTooLarge, RouteLengthLie: fulltext.CodeTruncated,
			RouteDrip: fulltext.CodeOKPDF, RouteBadFilename: fulltext.CodeOKPDF,
			RouteJSAsPDF: fulltext.CodeWrongType, RouteOtherWork: fulltext.CodeWrongWork,
			RouteRobots: fulltext.CodeSkipRobots,
		}[r]
		if wk.Want == fulltext.CodeOKPDF {
			wk.WantSource = "openalex"
		}
	case RouteChallenge, RouteLogin, RoutePaywall, RouteCookie:
		wk.IDs = fulltext.IDs{DOI: doi, OpenAlex: oa}
		wk.Want = map[Route]fulltext.Code{
			RouteChallenge: fulltext.CodeBlockedChallenge, RouteLogin: fulltext.CodeBlockedLogin,
			RoutePaywall: fulltext.CodeBlockedPaywall, RouteCookie: fulltext.CodeBlockedCookie,
		}[r]
		wk.Input = doiSpelling(doi, spelling)
	}
	return wk
}

func doiSpelling(doi string, k int) string {
	switch k {
	case 1:
		return "doi:" + doi
	case 2:
		return "https://doi.org/" + doi
	case 3:
		return "DOI:" + strings.ToUpper(doi)
	case 4:
		return "https://doi.org/" + strings.ReplaceAll(doi, "/", "%2F")
	}
	return doi
}

// publisherHost is the host of a generated work's publisher (landing page
// and publisher PDF).
func (wk Work) publisherHost() string {
	switch wk.Route {
	case RouteChallenge:
		return "shield.example.com"
	case RouteLogin:
		return "members.example.org"
	case RoutePaywall:
		return "store.example.com"
	case RouteCookie:
		return "consent.example.com"
	case RouteDOAJ:
		return "oajournal.example.org"
	}
	return []string{"journals.example.org", "pubs.example.com", "press.example.org"}[wk.n%3]
}

// key is the path segment naming the work on publisher hosts.
func (wk Work) key() string { return cmp.Or(wk.IDs.DOI, wk.IDs.OpenAlex) }

func (wk Work) landingURL() string {
	return "https://" + wk.publisherHost() + "/article/" + wk.key()
}

func (wk Work) publisherPDFURL() string { return wk.landingURL() + "/pdf" }

func (wk Work) repositoryPDFURL() string {
	return fmt.Sprintf("https://repository.example.edu/bitstream/handle/sim/%d/article.pdf", wk.n)
}

// deadPDFURL is where a Wayback work's PDF used to be (now 404).
func (wk Work) deadPDFURL() string {
	return fmt.Sprintf("http://www.example-archive-press.org/papers/sim-%d.pdf", wk.n)
}

// arxivVersions is how many versions an arXiv work has.
func (wk Work) arxivVersions() int { return 1 + wk.n%3 }
