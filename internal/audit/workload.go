package audit

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/finding"
)

func definitions() []definition {
	return []definition{
		{std: Standard{PSS: "", NSA: "use immutable container file systems (read-only root filesystem)"}, check: finding.Check{
			ID: ReadOnlyRootFSCheck, Title: "Container root filesystem is writable", Severity: finding.Medium,
			Doc: `Each container (init and ephemeral included) should set
securityContext.readOnlyRootFilesystem: true, so that an attacker cannot modify the image's
binaries or drop tools into it. Unset means false: the root filesystem is writable. Write to an
emptyDir volume mounted where the application needs scratch space.`,
			Run: perWorkload(readOnlyRootFS)}},
		{std: Standard{NSA: "disable service account token automount where the API is not used"}, check: finding.Check{
			ID: AutomountTokenCheck, Title: "Service-account token mounted into pods that may not need it", Severity: finding.Medium,
			Doc: `A pod mounts its ServiceAccount's API token unless spec.automountServiceAccountToken is
false, or it is unset and the ServiceAccount sets automountServiceAccountToken: false. Unset on
both means true: every process in the pod can call the API server as that ServiceAccount. The
check reads the pod first, then the ServiceAccount (spec.serviceAccountName, "default" when unset)
when the input holds it; a ServiceAccount that does not switch automount off is reported too, at
low severity.`,
			Run: automountToken}},
		{std: Standard{PSS: "restricted", NSA: "prevent privilege escalation (allowPrivilegeEscalation: false)"}, check: finding.Check{
			ID: PrivilegeEscalationCheck, Title: "Container may gain more privileges than its parent process", Severity: finding.High,
			Doc: `allowPrivilegeEscalation controls the no_new_privs flag of the container's process. Unset
means true: setuid binaries can raise privileges. It is always effectively true for a privileged
container or one that adds CAP_SYS_ADMIN, whatever the field says. The restricted Pod Security
Standard requires an explicit false. An explicit true, privileged or CAP_SYS_ADMIN is high; unset
is medium.`,
			Run: perWorkload(privilegeEscalation)}},
		{std: Standard{PSS: "baseline", NSA: "do not run privileged containers"}, check: finding.Check{
			ID: PrivilegedCheck, Title: "Privileged container", Severity: finding.Critical,
			Doc: `A privileged container (securityContext.privileged: true) has every capability and access
to all host devices: it is root on the node. Unset means false. Windows HostProcess containers
(securityContext.windowsOptions.hostProcess: true) are reported too.`,
			Run: perWorkload(privileged)}},
		{std: Standard{PSS: "baseline (adds), restricted (drop ALL)", NSA: "drop all capabilities and add back only those needed"}, check: finding.Check{
			ID: CapabilitiesCheck, Title: "Capabilities not dropped, or dangerous capabilities added", Severity: finding.High,
			Doc: `Unset capabilities mean the container runtime's default set (CHOWN, DAC_OVERRIDE, FOWNER,
FSETID, KILL, NET_BIND_SERVICE, NET_RAW, SETGID, SETUID, SETPCAP, SYS_CHROOT and others).
capabilities.drop must include ALL (restricted Pod Security Standard; medium). Adding anything
outside the baseline standard's list (AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL,
MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT), such as SYS_ADMIN,
NET_ADMIN, SYS_PTRACE or ALL, is high.`,
			Run: perWorkload(capabilities)}},
		{std: Standard{PSS: "restricted", NSA: "run containers as non-root users"}, check: finding.Check{
			ID: RunAsNonRootCheck, Title: "Container may run as root", Severity: finding.High,
			Doc: `The container's runAsNonRoot and runAsUser override the pod's securityContext. With
both unset (neither runAsNonRoot: true nor a non-zero runAsUser), the process runs as the image's USER, which is
root unless the image says otherwise (medium). runAsUser: 0 runs as root explicitly (high).
Windows pods (spec.os.name: windows) are skipped.`,
			Run: perWorkload(runAsNonRoot)}},
		{std: Standard{PSS: "baseline", NSA: "do not share host namespaces"}, check: finding.Check{
			ID: HostNamespacesCheck, Title: "Pod shares the host's PID, IPC or network namespace", Severity: finding.High,
			Doc: `hostPID, hostIPC and hostNetwork let the pod see the node's processes, shared memory or
network interfaces. Unset means false.`,
			Run: perWorkload(hostNamespaces)}},
		{std: Standard{PSS: "baseline", NSA: "do not expose containers on host ports"}, check: finding.Check{
			ID: HostPortCheck, Title: "Container binds a host port", Severity: finding.Medium,
			Doc: `A hostPort exposes the container on every node it runs on, bypassing NetworkPolicy and
Services, and limits scheduling. Unset (or 0) means no host port.`,
			Run: perWorkload(hostPort)}},
		{std: Standard{PSS: "baseline", NSA: "do not mount host paths; never mount the container runtime socket"}, check: finding.Check{
			ID: HostPathCheck, Title: "Pod mounts a host path", Severity: finding.Critical,
			Doc: `A hostPath volume gives the pod the node's files. Mounting a container runtime socket
(docker.sock, containerd.sock, crio.sock) or the host's root directory is critical: it is control
of the node. Any other host path is high. Volumes are unset by default: a pod has no host path
unless it asks for one.`,
			Run: perWorkload(hostPath)}},
		{std: Standard{PSS: "baseline", NSA: "keep the default /proc masking"}, check: finding.Check{
			ID: ProcMountCheck, Title: "Container unmasks /proc", Severity: finding.High,
			Doc: `securityContext.procMount: Unmasked exposes host information in /proc. Unset means
Default, the masked /proc.`,
			Run: perWorkload(procMount)}},
		{std: Standard{PSS: "baseline (Unconfined), restricted (set)", NSA: "use seccomp to limit system calls"}, check: finding.Check{
			ID: SeccompCheck, Title: "Container runs without a seccomp profile", Severity: finding.High,
			Doc: `The container's seccompProfile overrides the pod's. Unset means Unconfined unless every
kubelet runs with --seccomp-default (off by default), so unset is medium: the restricted Pod
Security Standard requires RuntimeDefault or Localhost. An explicit Unconfined is high (baseline).
The old seccomp annotations have no effect on current Kubernetes and are not read.`,
			Run: perWorkload(seccomp)}},
		{std: Standard{PSS: "baseline", NSA: "use AppArmor or SELinux"}, check: finding.Check{
			ID: AppArmorSELinuxCheck, Title: "AppArmor or SELinux confinement switched off", Severity: finding.High,
			Doc: `Unset AppArmor means the runtime's default profile on nodes that have AppArmor, which is
fine; an explicit Unconfined (appArmorProfile.type or the container.apparmor.security.beta.kubernetes.io
annotation) is high. A custom seLinuxOptions type other than container_t, container_init_t,
container_kvm_t or container_engine_t, or any seLinuxOptions user or role, is high.`,
			Run: perWorkload(appArmorSELinux)}},
		{std: Standard{NSA: "set resource requests and limits so that one workload cannot starve others"}, check: finding.Check{
			ID: ResourcesCheck, Title: "Container without CPU/memory requests or memory limit", Severity: finding.Medium,
			Doc: `Each container and init container should request CPU and memory and limit memory. The
effective value is what admission applies: an unset request takes the container's limit, else
the default of a LimitRange in the same namespace when the input holds one; without any, the pod
is BestEffort or Burstable and the scheduler packs nodes blind. A CPU limit is not required.`,
			Run: perWorkload(resources)}},
		{std: Standard{NSA: "use immutable, pinned images"}, check: finding.Check{
			ID: ImageTagCheck, Title: "Image without a tag, tagged latest, or with a misleading pull policy", Severity: finding.Medium,
			Doc: `An image without a tag means :latest. A latest image changes under the same name, so two
nodes may run different code. Unset imagePullPolicy means Always for latest and IfNotPresent
otherwise; latest with IfNotPresent or Never is reported because nodes keep whatever they pulled.
A digest (@sha256:...) pins the image and passes.`,
			Run: perWorkload(imageTag)}},
		{std: Standard{NSA: "reliability: let Kubernetes detect unhealthy containers"}, check: finding.Check{
			ID: ProbesCheck, Title: "Long-running container without liveness or readiness probe", Severity: finding.Low,
			Doc: `Containers of long-running workloads (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet,
ReplicationController) should have a readiness probe, so that traffic waits until they are ready,
and a liveness probe, so that a hung process is restarted. Unset means none: a process that is up
is considered ready and healthy. Jobs, CronJobs, init and ephemeral containers are skipped.`,
			Run: perWorkload(probes)}},
		{std: Standard{NSA: "reliability: keep services available during node maintenance"}, check: finding.Check{
			ID: DisruptionBudgetCheck, Title: "Deployment or StatefulSet without replicas or PodDisruptionBudget", Severity: finding.Medium,
			Doc: `Unset spec.replicas means 1: a single replica is down during every node drain (low). With
more than one replica, a PodDisruptionBudget in the same namespace selecting the pods keeps a drain
from evicting them all at once (medium when missing). On file input the PodDisruptionBudget must
be in the files read.`,
			Run: perWorkload(disruptionBudget)}},
		{std: Standard{NSA: "keep secrets out of manifests; use Secrets"}, check: finding.Check{
			ID: SecretEnvCheck, Title: "Secret-looking environment variable with a literal value", Severity: finding.High,
			Doc: `An env entry whose name looks like a credential (PASSWORD, SECRET, TOKEN, API_KEY,
PRIVATE_KEY, ACCESS_KEY, CREDENTIAL) with a literal value puts the secret in the manifest, in git
and in every reader of the object. Use valueFrom.secretKeyRef. An unset or empty value, a
$(VAR) reference, a boolean or number, or a name about the secret rather than the secret itself
(..._FILE, ..._PATH, ..._NAME, ..._URL, ..._LENGTH, ALLOW...) is not reported. The value is never shown.`,
			Run: perWorkload(secretEnv)}},
		{std: Standard{NSA: "limit resources per namespace with ResourceQuota and LimitRange"}, check: finding.Check{
			ID: NamespaceQuotaCheck, Title: "Namespace without ResourceQuota or LimitRange", Severity: finding.Medium,
			Doc: namespaceDoc(`Without a ResourceQuota one namespace (a CI system, say) can take the whole
cluster; without a LimitRange its containers get no default requests or limits.`),
			Run: namespaceQuota}},
		{std: Standard{NSA: "default-deny NetworkPolicy per namespace"}, check: finding.Check{
			ID: NamespaceNetworkPolicyCheck, Title: "Namespace without any NetworkPolicy", Severity: finding.Medium,
			Doc: namespaceDoc(`Without a NetworkPolicy every pod accepts traffic from every other pod in the
cluster. Start with a default-deny policy and allow what is needed.`),
			Run: namespaceNetworkPolicy}},
		{std: Standard{NSA: "limit resources so that one workload cannot starve others"}, check: finding.Check{
			ID: NamespacePriorityCheck, Title: "Namespace workloads without PriorityClass while others have one", Severity: finding.Low,
			Doc: namespaceDoc(`When some workloads set spec.priorityClassName and others do not, the others
run at the global default PriorityClass (value 0 when none has globalDefault: true) and are the
first preempted, or, the other way round, an unprioritised batch namespace competes equally with
production. The check reports namespaces whose workloads have no priority class while workloads
elsewhere in the input have one.`),
			Run: namespacePriority}},
	}
}

func readOnlyRootFS(w workload, _ *auditContext, emit func(finding.Finding)) {
	if w.windows() {
		return
	}
	for _, c := range w.containers() {
		v, set := boolField(c.sc, "readOnlyRootFilesystem")
		if v {
			continue
		}
		msg := c.label() + ": readOnlyRootFilesystem is false"
		if !set {
			msg = c.label() + ": readOnlyRootFilesystem unset (effective false: the root filesystem is writable)"
		}
		emit(w.finding(ReadOnlyRootFSCheck, finding.Medium, msg+" at "+c.field.String(),
			"Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the process writes."))
	}
}

func privilegeEscalation(w workload, _ *auditContext, emit func(finding.Finding)) {
	if w.windows() {
		return
	}
	for _, c := range w.containers() {
		priv, _ := boolField(c.sc, "privileged")
		sysAdmin := slices.ContainsFunc(stringList(mapAt(c.sc, "capabilities"), "add"), func(s string) bool {
			return capName(s) == "SYS_ADMIN" || capName(s) == "ALL"
		})
		ape, set := boolField(c.sc, "allowPrivilegeEscalation")
		var msg string
		sev := finding.High
		switch {
		case priv:
			msg = "privileged, so privilege escalation is always allowed"
		case sysAdmin:
			msg = "adds CAP_SYS_ADMIN, so privilege escalation is always allowed"
		case set && ape:
			msg = "allowPrivilegeEscalation: true"
		case !set:
			msg = "allowPrivilegeEscalation unset (effective true: setuid binaries can raise privileges)"
			sev = finding.Medium
		default:
			continue
		}
		emit(w.finding(PrivilegeEscalationCheck, sev, c.label()+": "+msg+" at "+c.field.String(),
			"Set securityContext.allowPrivilegeEscalation: false (and drop privileged and CAP_SYS_ADMIN)."))
	}
}

func privileged(w workload, _ *auditContext, emit func(finding.Finding)) {
	for _, c := range w.containers() {
		if v, _ := boolField(c.sc, "privileged"); v {
			emit(w.finding(PrivilegedCheck, finding.Critical, c.label()+": privileged: true at "+c.field.String(),
				"Remove securityContext.privileged; add only the capabilities the process needs."))
		}
		if v, _ := boolField(mapAt(c.sc, "windowsOptions"), "hostProcess"); v {
			emit(w.finding(PrivilegedCheck, finding.Critical, c.label()+": windowsOptions.hostProcess: true at "+c.field.String(),
				"Remove windowsOptions.hostProcess unless the workload must run as a host process."))
		}
	}
	if v, _ := boolField(mapAt(w.podSC, "windowsOptions"), "hostProcess"); v {
		emit(w.finding(PrivilegedCheck, finding.Critical, "windowsOptions.hostProcess: true at "+w.field+".securityContext",
			"Remove windowsOptions.hostProcess unless the workload must run as a host process."))
	}
}

// baselineCaps may be added under the baseline Pod Security Standard.
var baselineCaps = map[string]bool{
	"AUDIT_WRITE": true, "CHOWN": true, "DAC_OVERRIDE": true, "FOWNER": true, "FSETID": true, "KILL": true,
	"MKNOD": true, "NET_BIND_SERVICE": true, "SETFCAP": true, "SETGID": true, "SETPCAP": true, "SETUID": true,
	"SYS_CHROOT": true,
}

// capName normalises a capability name: "cap_sys_admin" -> "SYS_ADMIN".
func capName(s string) string { return strings.TrimPrefix(strings.ToUpper(s), "CAP_") }

func capabilities(w workload, _ *auditContext, emit func(finding.Finding)) {
	if w.windows() {
		return
	}
	for _, c := range w.containers() {
		caps := mapAt(c.sc, "capabilities")
		var bad []string
		for _, a := range stringList(caps, "add") {
			if !baselineCaps[capName(a)] {
				bad = append(bad, capName(a))
			}
		}
		if len(bad) > 0 {
			sort.Strings(bad)
			emit(w.finding(CapabilitiesCheck, finding.High,
				fmt.Sprintf("%s: adds %s at %s.securityContext.capabilities.add", c.label(), strings.Join(bad, ", "), c.field.String()),
				"Remove dangerous capabilities; add back only NET_BIND_SERVICE or others from the baseline list when needed."))
		}
		if !slices.ContainsFunc(stringList(caps, "drop"), func(s string) bool { return capName(s) == "ALL" }) {
			msg := "capabilities.drop does not include ALL"
			if caps == nil || caps["drop"] == nil {
				msg = "capabilities.drop unset (effective: the runtime's default capabilities, NET_RAW included)"
			}
			emit(w.finding(CapabilitiesCheck, finding.Medium, c.label()+": "+msg+" at "+c.field.String(),
				"Set securityContext.capabilities.drop: [ALL] and add back only what the process needs."))
		}
	}
}

func runAsNonRoot(w workload, _ *auditContext, emit func(finding.Finding)) {
	if w.windows() {
		return
	}
	for _, c := range w.containers() {
		nonRoot, nonRootFrom := w.effectiveBool(c, "runAsNonRoot")
		uid, uidFrom := w.effectiveInt(c, "runAsUser")
		fix := "Set securityContext.runAsNonRoot: true and a non-zero runAsUser (e.g. 10001)."
		switch {
		case uidFrom != "" && uid == 0:
			emit(w.finding(RunAsNonRootCheck, finding.High, c.label()+": runs as root (runAsUser: 0 at "+uidFrom+")", fix))
		case uidFrom != "" && uid > 0, nonRoot:
			continue
		case nonRootFrom != "":
			emit(w.finding(RunAsNonRootCheck, finding.Medium, c.label()+": runAsNonRoot: false and runAsUser unset (runs as the image's user, root unless the image sets one)", fix))
		default:
			emit(w.finding(RunAsNonRootCheck, finding.Medium, c.label()+": runAsNonRoot and runAsUser unset on container and pod (effective: the image's user, root unless the image sets one) at "+c.field.String(), fix))
		}
	}
}

func hostNamespaces(w workload, _ *auditContext, emit func(finding.Finding)) {
	for _, key := range []string{"hostPID", "hostIPC", "hostNetwork"} {
		if v, _ := boolField(w.spec, key); v {
			emit(w.finding(HostNamespacesCheck, finding.High, key+": true at "+w.field+"."+key,
				"Remove "+key+"; the pod should use its own namespaces."))
		}
	}
}

func hostPort(w workload, _ *auditContext, emit func(finding.Finding)) {
	for _, c := range w.containers() {
		ports, _ := c.m["ports"].([]any)
		for i, p := range ports {
			pm, _ := p.(map[string]any)
			if hp, ok := intField(pm, "hostPort"); ok && hp != 0 {
				emit(w.finding(HostPortCheck, finding.Medium, fmt.Sprintf("%s: hostPort %d at %s.ports[%d]", c.label(), hp, c.field.String(), i),
					"Remove hostPort and expose the container through a Service."))
			}
		}
	}
}

// criticalHostPaths are host paths that give control of the node.
var criticalHostPaths = []string{"docker.sock", "containerd.sock", "crio.sock", "cri-dockerd.sock", "dockershim.sock"}

func hostPath(w workload, _ *auditContext, emit func(finding.Finding)) {
	vols, _ := w.spec["volumes"].([]any)
	for i, v := range vols {
		vm, _ := v.(map[string]any)
		hp := mapAt(vm, "hostPath")
		if hp == nil {
			continue
		}
		p := stringField(hp, "path")
		clean := strings.TrimRight(p, "/")
		sev := finding.High
		what := "mounts host path " + fmt.Sprintf("%q", p)
		switch {
		case clean == "":
			sev, what = finding.Critical, "mounts the host's root directory"
		case slices.ContainsFunc(criticalHostPaths, func(s string) bool { return strings.HasSuffix(clean, "/"+s) }):
			sev, what = finding.Critical, fmt.Sprintf("mounts the container runtime socket %q", p)
		case clean == "/var/run" || clean == "/run" || clean == "/var/lib/docker" || clean == "/var/lib/containerd":
			sev, what = finding.Critical, fmt.Sprintf("mounts %q, which holds the container runtime", p)
		}
		emit(w.finding(HostPathCheck, sev, fmt.Sprintf("volume %q %s at %s.volumes[%d]", stringField(vm, "name"), what, w.field, i),
			"Use a PersistentVolumeClaim, emptyDir, ConfigMap or Secret instead of a hostPath volume."))
	}
}

func procMount(w workload, _ *auditContext, emit func(finding.Finding)) {
	for _, c := range w.containers() {
		if pm := stringField(c.sc, "procMount"); pm != "" && pm != "Default" {
			emit(w.finding(ProcMountCheck, finding.High, fmt.Sprintf("%s: procMount: %s at %s", c.label(), pm, c.field.String()),
				"Remove securityContext.procMount or set it to Default."))
		}
	}
}

func seccomp(w workload, _ *auditContext, emit func(finding.Finding)) {
	if w.windows() {
		return
	}
	fix := "Set securityContext.seccompProfile.type: RuntimeDefault on the pod."
	for _, c := range w.containers() {
		prof, from := w.effectiveMap(c, "seccompProfile")
		switch t := stringField(prof, "type"); {
		case from == "":
			emit(w.finding(SeccompCheck, finding.Medium, c.label()+": seccompProfile unset on container and pod (effective Unconfined unless the kubelet runs with --seccomp-default) at "+c.field.String(), fix))
		case t == "Unconfined":
			emit(w.finding(SeccompCheck, finding.High, c.label()+": seccompProfile Unconfined at "+from, fix))
		}
	}
}

// seLinuxTypes are the SELinux types the baseline Pod Security Standard allows.
var seLinuxTypes = map[string]bool{"": true, "container_t": true, "container_init_t": true, "container_kvm_t": true, "container_engine_t": true}

func appArmorSELinux(w workload, _ *auditContext, emit func(finding.Finding)) {
	annotations := mapAt(w.podMeta, "annotations")
	fix := "Remove the Unconfined profile or custom SELinux options; the runtime's defaults confine the container."
	checkSEL := func(m map[string]any, where, who string) {
		sel := mapAt(m, "seLinuxOptions")
		if sel == nil {
			return
		}
		if t := stringField(sel, "type"); !seLinuxTypes[t] {
			emit(w.finding(AppArmorSELinuxCheck, finding.High, fmt.Sprintf("%sseLinuxOptions.type %q at %s", who, t, where), fix))
		}
		for _, k := range []string{"user", "role"} {
			if v := stringField(sel, k); v != "" {
				emit(w.finding(AppArmorSELinuxCheck, finding.High, fmt.Sprintf("%sseLinuxOptions.%s %q at %s", who, k, v, where), fix))
			}
		}
	}
	checkSEL(w.podSC, w.field+".securityContext", "")
	if stringField(mapAt(w.podSC, "appArmorProfile"), "type") == "Unconfined" {
		emit(w.finding(AppArmorSELinuxCheck, finding.High, "appArmorProfile Unconfined at "+w.field+".securityContext", fix))
	}
	for _, c := range w.containers() {
		checkSEL(c.sc, c.field.String()+".securityContext", c.label()+": ")
		if stringField(mapAt(c.sc, "appArmorProfile"), "type") == "Unconfined" {
			emit(w.finding(AppArmorSELinuxCheck, finding.High, c.label()+": appArmorProfile Unconfined at "+c.field.String(), fix))
		}
		if a, _ := annotations["container.apparmor.security.beta.kubernetes.io/"+c.name].(string); a == "unconfined" {
			emit(w.finding(AppArmorSELinuxCheck, finding.High, c.label()+": AppArmor annotation unconfined", fix))
		}
	}
}

func resources(w workload, ac *auditContext, emit func(finding.Finding)) {
	ns := w.obj.GetNamespace()
	for _, c := range w.containers() {
		if c.role == "ephemeral container" {
			continue // ephemeral containers may not set resources
		}
		req := mapAt(c.m, "resources", "requests")
		lim := mapAt(c.m, "resources", "limits")
		has := func(m map[string]any, r string) bool { _, ok := m[r]; return ok }
		var missing []string
		if !has(req, "cpu") && !has(lim, "cpu") && !ac.limitRangeDefault(ns, "defaultRequest", "cpu") && !ac.limitRangeDefault(ns, "default", "cpu") {
			missing = append(missing, "CPU request")
		}
		if !has(req, "memory") && !has(lim, "memory") && !ac.limitRangeDefault(ns, "defaultRequest", "memory") && !ac.limitRangeDefault(ns, "default", "memory") {
			missing = append(missing, "memory request")
		}
		if !has(lim, "memory") && !ac.limitRangeDefault(ns, "default", "memory") {
			missing = append(missing, "memory limit")
		}
		if len(missing) == 0 {
			continue
		}
		emit(w.finding(ResourcesCheck, finding.Medium,
			fmt.Sprintf("%s: no %s (unset, and no LimitRange default in the input) at %s.resources", c.label(), strings.Join(missing, ", "), c.field.String()),
			"Set resources.requests.cpu, resources.requests.memory and resources.limits.memory from observed usage."))
	}
}

// imageTag returns the tag of an image reference, "" when there is none,
// and whether it is pinned by digest.
func imageTag(w workload, _ *auditContext, emit func(finding.Finding)) {
	for _, c := range w.containers() {
		image := stringField(c.m, "image")
		if image == "" || strings.Contains(image, "@") {
			continue // a digest pins the image; a missing image is rejected by the API server
		}
		tag := ""
		if i := strings.LastIndexByte(image, ':'); i > strings.LastIndexByte(image, '/') {
			tag = image[i+1:]
		}
		if tag != "" && tag != "latest" {
			continue
		}
		what := "image " + fmt.Sprintf("%q", image) + " has no tag (effective :latest)"
		if tag == "latest" {
			what = "image " + fmt.Sprintf("%q", image) + " is tagged latest"
		}
		switch pp := stringField(c.m, "imagePullPolicy"); pp {
		case "IfNotPresent", "Never":
			what += ", and imagePullPolicy " + pp + " keeps whatever each node pulled first"
		case "":
			what += " (imagePullPolicy unset: effective Always)"
		}
		emit(w.finding(ImageTagCheck, finding.Medium, c.label()+": "+what+" at "+c.field.String(),
			"Pin the image to a version tag or a digest."))
	}
}

// longRunning are the kinds whose containers are expected to keep running.
var longRunning = map[string]bool{"Pod": true, "Deployment": true, "StatefulSet": true, "DaemonSet": true, "ReplicaSet": true, "ReplicationController": true}

func probes(w workload, _ *auditContext, emit func(finding.Finding)) {
	if !longRunning[w.kind] {
		return
	}
	if w.kind == "Pod" && stringField(w.spec, "restartPolicy") != "" && stringField(w.spec, "restartPolicy") != "Always" {
		return // a run-to-completion pod
	}
	for _, c := range w.containers() {
		if c.role != "container" {
			continue
		}
		var missing []string
		if c.m["readinessProbe"] == nil {
			missing = append(missing, "readinessProbe")
		}
		if c.m["livenessProbe"] == nil {
			missing = append(missing, "livenessProbe")
		}
		if len(missing) > 0 {
			emit(w.finding(ProbesCheck, finding.Low, fmt.Sprintf("%s: no %s (unset: a running process counts as ready and healthy) at %s", c.label(), strings.Join(missing, " or "), c.field.String()),
				"Add an HTTP, gRPC or TCP readinessProbe and livenessProbe."))
		}
	}
}

func disruptionBudget(w workload, ac *auditContext, emit func(finding.Finding)) {
	if w.kind != "Deployment" && w.kind != "StatefulSet" {
		return
	}
	replicas, set := intField(mapAt(w.obj.Object, "spec"), "replicas")
	if !set {
		replicas = 1
	}
	switch {
	case replicas == 0:
		return
	case replicas == 1:
		msg := "spec.replicas is 1"
		if !set {
			msg = "spec.replicas unset (effective 1)"
		}
		emit(w.finding(DisruptionBudgetCheck, finding.Low, msg+": the workload is down during every node drain or rollout of its node",
			"Run at least 2 replicas, spread over nodes, with a PodDisruptionBudget."))
	default:
		podLabels := stringMap(mapAt(w.podMeta, "labels"))
		if !ac.disruptionBudgetFor(w.obj.GetNamespace(), podLabels) {
			emit(w.finding(DisruptionBudgetCheck, finding.Medium, fmt.Sprintf("%d replicas and no PodDisruptionBudget in the input selects their pods", replicas),
				"Add a PodDisruptionBudget (e.g. maxUnavailable: 1) selecting the pod template's labels."))
		}
	}
}

// secretWords mark an environment variable name as holding a credential.
var secretWords = []string{"PASSWORD", "PASSWD", "SECRET", "TOKEN", "API_KEY", "APIKEY", "PRIVATE_KEY", "ACCESS_KEY", "CREDENTIAL"}

// notSecretSuffixes mark variables about a secret rather than holding one
// (DB_PASSWORD_FILE, TOKEN_URL, MB_PASSWORD_LENGTH).
var notSecretSuffixes = []string{"_FILE", "_PATH", "_NAME", "_URL", "_LENGTH", "_COMPLEXITY", "_POLICY", "_ENABLED"}

// notASecret reports whether a secret-looking variable holds a setting:
// a name about the secret, or a boolean or number value.
func notASecret(name, value string) bool {
	if slices.ContainsFunc(notSecretSuffixes, func(s string) bool { return strings.HasSuffix(name, s) }) || strings.Contains(name, "ALLOW") {
		return true
	}
	switch strings.ToLower(value) {
	case "true", "false", "yes", "no":
		return true
	}
	return strings.Trim(value, "0123456789") == ""
}

func secretEnv(w workload, _ *auditContext, emit func(finding.Finding)) {
	for _, c := range w.containers() {
		env, _ := c.m["env"].([]any)
		for i, e := range env {
			em, _ := e.(map[string]any)
			name := stringField(em, "name")
			val := stringField(em, "value")
			if val == "" || strings.HasPrefix(val, "$(") {
				continue
			}
			up := strings.ToUpper(name)
			if !slices.ContainsFunc(secretWords, func(wd string) bool { return strings.Contains(up, wd) }) || notASecret(up, val) {
				continue
			}
			emit(w.finding(SecretEnvCheck, finding.High, fmt.Sprintf("%s: env %q has a literal value (not shown) at %s.env[%d]", c.label(), name, c.field.String(), i),
				"Move the value into a Secret and use valueFrom.secretKeyRef."))
		}
	}
}
