// Package yamledit edits YAML files at the node level and writes them back
// with as little change as possible, for the `fix` commands.
//
// A fix must not re-serialize a user's file: comments, key order, quoting,
// flow style, blank lines and indentation are the user's, and a reviewer
// should see only the lines the fix changed. yamledit therefore keeps the
// original text and a deep copy of every document's node tree. Edits are
// made on go.yaml.in/yaml/v3 nodes with the helpers of this package (Lookup,
// Set, SetScalar, SetValue, Delete, Rename, EnsureMapping, InsertAfter,
// Append, Move) or directly on the nodes. (*File).Bytes then compares each
// document's tree with its copy:
//
//   - a document without changes is copied byte for byte;
//   - a changed scalar (a value or a renamed key) on one line is replaced in
//     place, keeping its line comment;
//   - a deleted mapping entry or sequence item loses exactly its lines
//     (with the comment lines directly above it);
//   - a new entry or item is rendered in the document's detected style
//     (indentation of 2 or 4, "compact" sequences whose `- ` sits at the
//     parent key's column, or indented ones) and inserted at its place;
//   - anything else that changed (a value replaced by a new node, a flow
//     collection, a multi-line scalar) is re-rendered as the smallest
//     enclosing mapping entry or sequence item, at its original indentation.
//
// Edits that reach into an anchored node or an alias are refused by Bytes
// with ErrAlias: changing them would silently change other places.
//
// Diff renders a unified diff of two versions of a file and WriteFile
// replaces a file atomically, keeping its mode. The package never prints;
// it is pure logic over bytes plus the one file write.
//
// Usage:
//
//	f, err := yamledit.Parse(path, src)
//	for _, doc := range f.Documents() {
//		root := doc.Root()
//		if root == nil {
//			continue // empty document
//		}
//		sc, err := yamledit.EnsureMapping(root, "spec", "template", "spec", "securityContext")
//		...
//		err = yamledit.SetValue(sc, "runAsNonRoot", true)
//	}
//	out, err := f.Bytes()
//	fmt.Print(yamledit.Diff(path, src, out))
//	err = yamledit.WriteFile(path, out)
package yamledit
