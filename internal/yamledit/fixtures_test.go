package yamledit

// styleFixtures are the files under testdata/ that the golden and random
// edit tests work on: 2-space, 4-space and compact-sequence styles.
var styleFixtures = []string{"indent2.yaml", "indent4.yaml", "compact.yaml"}
