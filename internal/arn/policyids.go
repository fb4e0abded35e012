package arn

// PolicyID returns a new IAM managed policy unique ID: "ANPA" and 17
// characters (IAM User Guide, "Unique identifiers").
func (g Generator) PolicyID() string { return "ANPA" + g.fromAlphabet(upperDigits, 17) }
