package algorithms

// Enumerations, spelt exactly as the Eurocities Algorithmic Transparency Standard v0.3.1
// spells them, so that the standard's export is a projection and not a translation.

// Domains are the policy areas an algorithm serves.
var Domains = []string{
	"taxes",
	"housing, living and living environment",
	"culture, sports and leisure",
	"defence",
	"economy and entrepreneurship",
	"family, youth and households",
	"finance",
	"generic",
	"health and health care",
	"immigration and integration",
	"international collaboration and development aid",
	"agriculture, nature and food",
	"environment, spacial planning and water",
	"education and science",
	"public safety",
	"government",
	"justice",
	"travel, living and working abroad",
	"subsidies, benefits and allowances",
	"traffic and transportation",
	"work and career",
}

// Statuses are the life-cycle stages of an algorithm.
var Statuses = []string{"planned", "design", "development", "pilot", "evaluation", "operational", "retired"}

// RiskCategories are the EU AI Act tiers; the risk assessment computes one.
var RiskCategories = []string{"minimal risk", "limited risk", "high risk", "unacceptable"}

// AlgorithmTypes say how the algorithm's logic comes about.
var AlgorithmTypes = []string{"self-learning", "rule-based", "hybrid"}

// Types say what the algorithm's output does.
var Types = []string{"descriptive", "diagnostic", "predictive", "prescriptive"}

// ImpactAssessmentKinds are the assessments an entry can record.
var ImpactAssessmentKinds = []string{"DPIA", "FRIA", "AIA", "other"}

// SpecialCategories are the GDPR Article 9 (and 10) categories a data source may hold.
var SpecialCategories = []string{
	"racial or ethnic origin", "political opinions", "religious or philosophical beliefs",
	"trade union membership", "genetic data", "biometric data", "health", "sex life or sexual orientation",
	"criminal convictions and offences",
}

// Languages in which an entry's free text may be written; the first is the default.
var Languages = []string{"ca", "es", "en"}
