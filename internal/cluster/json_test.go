package cluster

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/client-go/kubernetes/scheme"
)

// jsonCorpus covers the grammar, the number rules, escapes, surrogates,
// invalid UTF-8 and malformed input. It seeds FuzzParseJSON too.
var jsonCorpus = []string{
	`{}`, `[]`, `null`, `true`, `false`, `0`, `-0`, `1`, `-1`, `"s"`,
	` {"a" : [1, 2.5, -3e2, true, false, null, "x"], "b": {"c": {}} } `,
	`{"a":1,"a":2}`,
	`[123456789012345678, 1234567890123456789, 9223372036854775807, 9223372036854775808, -9223372036854775808, -9223372036854775809]`,
	`[1.0, 1e3, 1E+3, 1e-3, 0.5, -0.0, 1.5e300, 1e400, 1e-400, 12345678901234567890123]`,
	`["\"\\\/\b\f\n\r\t", "\u0041\u00e9\u4e2d", "\ud83d\ude00", "\ud83d", "\ude00", "\ud83dx", "\ud83d\u0041", "é中😀"]`,
	"[\"\xff\", \"a\xc3\", \"\xed\xa0\x80\"]",
	"{\"k\xff\": 1, \"\\u006b\": 2, \"k\": 3}",
	`{"metadata":{"name":"a","labels":{"app":"x"}},"items":[{"f:metadata":{".":{}}}]}`,
	// Malformed.
	``, ` `, `{`, `[`, `{"a"`, `{"a":`, `{"a":1`, `{"a":1,}`, `[1,]`, `[1 2]`, `{"a" 1}`, `{1:2}`,
	`01`, `[01]`, `-`, `-a`, `1.`, `1.e3`, `1e`, `1e+`, `.5`, `+1`, `0x10`, `NaN`, `Infinity`,
	`tru`, `nul`, `fals`, `truex`, `"abc`, `"\x"`, `"\u12"`, `"\u12g4"`, "\"a\x01\"", `"\`,
	`{} {}`, `[] x`, "\xef\xbb\xbf{}",
}

func TestParseJSONMatchesUtilJSON(t *testing.T) {
	for _, in := range jsonCorpus {
		checkParseJSON(t, []byte(in))
	}
	// Real list bodies as the API server writes them.
	list := &appsv1.DeploymentList{}
	for i := range 3 {
		list.Items = append(list.Items, *benchDeployment(fmt.Sprintf("d-%d", i)))
	}
	info, _ := runtime.SerializerInfoForMediaType(scheme.Codecs.SupportedMediaTypes(), runtime.ContentTypeJSON)
	body, err := runtime.Encode(scheme.Codecs.EncoderForVersion(info.Serializer, schema.GroupVersion{Group: "apps", Version: "v1"}), list)
	if err != nil {
		t.Fatal(err)
	}
	checkParseJSON(t, body)
	checkParseJSON(t, []byte(strings.Repeat("[", 10001)+strings.Repeat("]", 10001)))
	checkParseJSON(t, []byte(strings.Repeat("[", 100)+strings.Repeat("]", 100)))
}

func FuzzParseJSON(f *testing.F) {
	for _, in := range jsonCorpus {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) { checkParseJSON(t, in) })
}

// checkParseJSON compares parseJSON with util/json.Unmarshal.
func checkParseJSON(t *testing.T, in []byte) {
	t.Helper()
	var want any
	wantErr := utiljson.Unmarshal(in, &want)
	got, err := parseJSON(in)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("parseJSON(%q) error = %v, util/json error = %v", in, err, wantErr)
	}
	if err != nil {
		return
	}
	// cmp.Diff is exponential in nesting depth; it only explains a mismatch.
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("parseJSON(%q) differs from util/json (-want +got):\n%s", in, cmp.Diff(want, got))
	}
}
