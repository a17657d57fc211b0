package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// pageLog records what Stream delivered, page by page.
type pageLog struct {
	mu     sync.Mutex
	events []string
	// committed holds the ids of resources whose Last page arrived;
	// pending those still being read.
	committed, pending map[string][]string
}

func newPageLog() *pageLog {
	return &pageLog{committed: map[string][]string{}, pending: map[string][]string{}}
}

func (l *pageLog) page(p Page) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := p.Resource.Resource
	switch {
	case p.Reset:
		l.events = append(l.events, r+" reset")
		delete(l.pending, r)
		return nil
	case p.Typed != nil:
		return fmt.Errorf("%s page is typed, none was asked for", r)
	}
	for _, o := range p.Objects {
		l.pending[r] = append(l.pending[r], fmt.Sprintf("%s %s %s/%s", o.GetAPIVersion(), o.GetKind(), o.GetNamespace(), o.GetName()))
	}
	l.events = append(l.events, fmt.Sprintf("%s %d last=%v", r, len(p.Objects), p.Last))
	if p.Last {
		l.committed[r] = l.pending[r]
		delete(l.pending, r)
	}
	return nil
}

func (l *pageLog) all() []string {
	var out []string
	for _, ids := range l.committed {
		out = append(out, ids...)
	}
	sort.Strings(out)
	return out
}

func TestStreamMatchesSnapshot(t *testing.T) {
	f := &fakeAPI{resources: []fakeResource{
		configMapResource(configMaps("ns", 7)...),
		secretResource(configMaps("ns", 0)...),
	}}
	newFakeAPI(t, f)
	snap, err := snapshotWith(context.Background(), f.target("ns"), SnapshotOptions{PageSize: 3}, fastRetry())
	if err != nil {
		t.Fatal(err)
	}
	log := newPageLog()
	s, err := streamWith(context.Background(), f.target("ns"), StreamOptions{SnapshotOptions: SnapshotOptions{PageSize: 3}}, fastRetry(), log.page)
	if err != nil {
		t.Fatal(err)
	}
	want := ids(snap)
	sort.Strings(want)
	if diff := cmp.Diff(want, log.all()); diff != "" {
		t.Errorf("objects (-snapshot +stream):\n%s", diff)
	}
	if len(s.Objects) != 0 {
		t.Errorf("stream snapshot holds %d objects, want none", len(s.Objects))
	}
	if diff := cmp.Diff(snap.Resources, s.Resources); diff != "" {
		t.Errorf("resources (-snapshot +stream):\n%s", diff)
	}
	var cms []string
	for _, e := range log.events {
		if strings.HasPrefix(e, "configmaps") {
			cms = append(cms, e)
		}
	}
	if diff := cmp.Diff([]string{"configmaps 3 last=false", "configmaps 3 last=false", "configmaps 1 last=true"}, cms); diff != "" {
		t.Errorf("configmap pages (-want +got):\n%s", diff)
	}
}

func TestStreamResetsWhenContinueExpires(t *testing.T) {
	f := &fakeAPI{resources: []fakeResource{configMapResource(configMaps("", 5)...)}}
	var expired atomic.Int32
	f.hook = func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/api/v1/configmaps" && r.URL.Query().Get("continue") != "" && expired.Add(1) == 1 {
			writeStatus(w, apierrors.NewResourceExpired("continue token expired"))
			return true
		}
		return false
	}
	newFakeAPI(t, f)
	tg := f.target("")
	tg.AllNamespaces = true
	log := newPageLog()
	if _, err := streamWith(context.Background(), tg, StreamOptions{SnapshotOptions: SnapshotOptions{PageSize: 2}}, fastRetry(), log.page); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"configmaps 2 last=false", "configmaps reset", "configmaps 5 last=true"}, log.events); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantIDs("v1", "ConfigMap", "", cmNames(5)...), log.all()); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
}

// TestStreamFailurePartWayIsGap: a resource that fails after its first page
// gets a gap and no Last page, so its objects never count.
func TestStreamFailurePartWayIsGap(t *testing.T) {
	f := &fakeAPI{resources: []fakeResource{configMapResource(configMaps("ns", 5)...)}}
	f.hook = func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/api/v1/namespaces/ns/configmaps" && r.URL.Query().Get("continue") != "" {
			writeStatus(w, apierrors.NewInternalError(errors.New("etcd is sad")))
			return true
		}
		return false
	}
	newFakeAPI(t, f)
	log := newPageLog()
	s, err := streamWith(context.Background(), f.target("ns"), StreamOptions{SnapshotOptions: SnapshotOptions{PageSize: 2}}, fastRetry(), log.page)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Gaps) != 1 || s.Gaps[0].Source != "configmaps" || !strings.Contains(s.Gaps[0].Reason, "etcd is sad") {
		t.Errorf("gaps = %v, want one configmaps gap", s.Gaps)
	}
	if diff := cmp.Diff([]string{"configmaps 2 last=false"}, log.events); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
	if got := log.all(); len(got) != 0 {
		t.Errorf("committed objects %v, want none", got)
	}
}

func TestStreamStopsOnPageError(t *testing.T) {
	f := &fakeAPI{resources: []fakeResource{configMapResource(configMaps("ns", 5)...)}}
	newFakeAPI(t, f)
	stop := errors.New("enough")
	_, err := streamWith(context.Background(), f.target("ns"), StreamOptions{SnapshotOptions: SnapshotOptions{PageSize: 2}}, fastRetry(), func(Page) error { return stop })
	if !errors.Is(err, stop) {
		t.Errorf("err = %v, want the page function's", err)
	}
}
