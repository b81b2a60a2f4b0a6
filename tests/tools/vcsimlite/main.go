// vcsimlite: a loopback-only VMware vCenter / ESXi SOAP endpoint for VirtSecScan's tests.
//
// It is VirtSecScan's own launcher around the govmomi simulator library as packaged by Debian
// (golang-github-vmware-govmomi-dev 0.24.2, Go 1.19, GOPATH mode). It builds an inventory, applies
// version overrides and an optional seed file, serves the SDK on 127.0.0.1 only and prints one line
// on stdout when ready:
//
//	VCSIM_URL=<url> PID=<pid>
//
// SIGINT or SIGTERM (or end of stdin with -exit-on-stdin-eof) closes the server and removes the
// model's temporary datastore folders. Build with tests/tools/vcsimlite/build.sh.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"crypto/tls"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/simulator/esx"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/types"

	// Registers the vSphere REST endpoints (session, tagging, content library) in vCenter mode.
	_ "github.com/vmware/govmomi/vapi/simulator"
)

// hostSeed is what a seed file may set on one host (matched by name or MoRef value).
type hostSeed struct {
	Version         string                     `json:"version"`
	Build           string                     `json:"build"`
	ServicesRunning map[string]bool            `json:"servicesRunning"`
	LockdownMode    string                     `json:"lockdownMode"`
	AdvancedOptions map[string]json.RawMessage `json:"advancedOptions"`
}

// vmSeed is what a seed file may set on one virtual machine (matched by name or MoRef value).
type vmSeed struct {
	ExtraConfig     map[string]string `json:"extraConfig"`
	Firmware        string            `json:"firmware"`
	SecureBoot      *bool             `json:"secureBoot"`
	HardwareVersion string            `json:"hardwareVersion"`
}

type seedFile struct {
	Hosts map[string]hostSeed `json:"hosts"`
	Vms   map[string]vmSeed   `json:"vms"`
}

type options struct {
	listen         string
	esxMode        bool
	clusterHosts   int
	standalone     int
	clusters       int
	vms            int
	username       string
	password       string
	useTLS         bool
	hostVersion    string
	hostBuild      string
	vcVersion      string
	vcBuild        string
	apiVersion     string
	seedPath       string
	loadDir        string
	exitOnStdinEOF bool
}

func main() {
	os.Exit(run())
}

func fail(format string, args ...interface{}) int {
	fmt.Fprintf(os.Stderr, "vcsimlite: error: "+format+"\n", args...)
	return 2
}

func warn(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "vcsimlite: warning: "+format+"\n", args...)
}

func run() int {
	var o options
	fs := flag.NewFlagSet("vcsimlite", flag.ContinueOnError)
	fs.StringVar(&o.listen, "l", "127.0.0.1:8989", "listen address; always 127.0.0.1, port 0 picks a free port")
	fs.BoolVar(&o.esxMode, "esx", false, "simulate a standalone ESXi host (ha-host) instead of vCenter")
	fs.IntVar(&o.clusterHosts, "host", 3, "hosts per cluster (vCenter mode)")
	fs.IntVar(&o.standalone, "standalone-host", 1, "standalone hosts per datacenter (vCenter mode)")
	fs.IntVar(&o.clusters, "cluster", 1, "clusters per datacenter (vCenter mode)")
	fs.IntVar(&o.vms, "vm", 2, "virtual machines per resource pool (each standalone host and each cluster has one)")
	fs.StringVar(&o.username, "username", "", "user name required by Login (empty with -password empty: any credentials)")
	fs.StringVar(&o.password, "password", "", "password required by Login")
	fs.BoolVar(&o.useTLS, "tls", true, "serve https with a self-signed certificate; -tls=false serves http")
	fs.StringVar(&o.hostVersion, "host-version", "", "ESXi version of every host, e.g. 7.0.3")
	fs.StringVar(&o.hostBuild, "host-build", "", "ESXi build of every host, e.g. 21930508")
	fs.StringVar(&o.vcVersion, "vc-version", "", "vCenter version in ServiceContent.about (vCenter mode)")
	fs.StringVar(&o.vcBuild, "vc-build", "", "vCenter build in ServiceContent.about (vCenter mode)")
	fs.StringVar(&o.apiVersion, "api-version", "", "API version of the service and of every host, e.g. 7.0.3.0")
	fs.StringVar(&o.seedPath, "seed", "", "JSON seed file: per-host and per-VM settings")
	fs.StringVar(&o.loadDir, "load", "", "load a model saved in govc object.save format instead of creating one")
	fs.BoolVar(&o.exitOnStdinEOF, "exit-on-stdin-eof", false, "also shut down when stdin reaches end of file (the parent went away)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		return fail("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	if err := checkListen(o.listen); err != nil {
		return fail("%v", err)
	}
	if (o.username == "") != (o.password == "") {
		return fail("give both -username and -password, or neither (then any credentials are accepted)")
	}
	for _, n := range []string{"host", "standalone-host", "cluster", "vm"} {
		if v, _ := strconv.Atoi(fs.Lookup(n).Value.String()); v < 0 {
			return fail("-%s must not be negative", n)
		}
	}

	var seed seedFile
	if o.seedPath != "" {
		var err error
		if seed, err = readSeed(o.seedPath); err != nil {
			return fail("seed file %s: %v", o.seedPath, err)
		}
	}

	var model *simulator.Model
	if o.esxMode {
		model = simulator.ESX()
		for _, n := range []string{"host", "standalone-host", "cluster", "vc-version", "vc-build"} {
			if set[n] {
				warn("-%s is ignored with -esx", n)
			}
		}
	} else {
		model = simulator.VPX()
		model.ClusterHost = o.clusterHosts
		model.Host = o.standalone
		model.Cluster = o.clusters
	}
	model.Machine = o.vms

	// Hosts created from the template (now or later through the API) inherit these versions.
	patchProduct(&esx.HostConfigInfo.Product, o.hostVersion, o.hostBuild, o.apiVersion)
	if o.esxMode {
		patchProduct(&model.ServiceContent.About, o.hostVersion, o.hostBuild, o.apiVersion)
	} else {
		patchProduct(&model.ServiceContent.About, o.vcVersion, o.vcBuild, o.apiVersion)
	}

	var err error
	if o.loadDir != "" {
		err = model.Load(o.loadDir)
	} else {
		err = model.Create()
	}
	if err != nil {
		model.Remove()
		return fail("creating the inventory: %v", err)
	}

	if code := configure(model, &o, &seed); code != 0 {
		model.Remove()
		return code
	}

	model.Service.RegisterEndpoints = true
	model.Service.Listen = &url.URL{Host: o.listen}
	if o.username != "" {
		model.Service.Listen.User = url.UserPassword(o.username, o.password)
	}
	if o.useTLS {
		model.Service.TLS = new(tls.Config)
	}

	server, err := startServer(model.Service)
	if err != nil {
		model.Remove()
		return fail("%v", err)
	}

	fmt.Fprintf(os.Stdout, "VCSIM_URL=%s PID=%d\n", server.URL.String(), os.Getpid())
	_ = os.Stdout.Sync()

	stop := make(chan string, 2)
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	go func() { stop <- (<-signals).String() }()
	if o.exitOnStdinEOF {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			stop <- "end of stdin"
		}()
	}
	reason := <-stop
	fmt.Fprintf(os.Stderr, "vcsimlite: stopping (%s)\n", reason)

	closed := make(chan struct{})
	go func() {
		server.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		warn("open connections did not finish within 5 s")
	}
	model.Remove()
	return 0
}

// checkListen accepts only 127.0.0.1:<port>: the simulator must never be reachable from the network.
func checkListen(listen string) error {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("-l %q: %v (expected 127.0.0.1:PORT)", listen, err)
	}
	if host != "127.0.0.1" {
		return fmt.Errorf("-l %q: only 127.0.0.1 is allowed (the simulator accepts any credentials and must stay on loopback)", listen)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("-l %q: bad port", listen)
	}
	return nil
}

// startServer turns the library's panic on a failed listen into an error.
func startServer(svc *simulator.Service) (server *simulator.Server, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cannot serve on %s: %v", svc.Listen.Host, r)
		}
	}()
	return svc.NewServer(), nil
}

func readSeed(path string) (seedFile, error) {
	var s seedFile
	data, err := os.ReadFile(path)
	if err != nil {
		return s, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, err
	}
	return s, nil
}

// patchProduct overrides version, build and API version (empty = keep) and recomputes fullName.
func patchProduct(p *types.AboutInfo, version, build, apiVersion string) {
	if version == "" && build == "" && apiVersion == "" {
		return
	}
	if version != "" {
		p.Version = version
	}
	if build != "" {
		p.Build = build
	}
	if apiVersion != "" {
		p.ApiVersion = apiVersion
	}
	p.FullName = fmt.Sprintf("%s %s build-%s", p.Name, p.Version, p.Build)
}

// configure applies the version flags and the seed file to the created (or loaded) inventory.
func configure(model *simulator.Model, o *options, seed *seedFile) int {
	hosts := map[string]*simulator.HostSystem{}
	var hostNames []string
	for _, e := range simulator.Map.All("HostSystem") {
		h, ok := e.(*simulator.HostSystem)
		if !ok {
			continue
		}
		hosts[h.Name] = h
		hosts[h.Self.Value] = h
		hostNames = append(hostNames, h.Name)

		if h.Config == nil {
			continue
		}
		patchProduct(&h.Config.Product, o.hostVersion, o.hostBuild, o.apiVersion)
		// The template shares one product and one option list between all hosts: give each its own.
		h.Summary.Config.Product = &h.Config.Product
		if h.ConfigManager.AdvancedOption != nil {
			if om, ok := simulator.Map.Get(*h.ConfigManager.AdvancedOption).(*simulator.OptionManager); ok {
				om.Setting = copyOptions(om.Setting)
				h.Config.Option = om.Setting
			}
		}
	}

	for _, name := range sortedKeys(seed.Hosts) {
		h, ok := hosts[name]
		if !ok {
			warn("seed host %q not found (hosts: %s)", name, sample(hostNames))
			continue
		}
		if h.Config == nil {
			warn("seed host %q has no configuration (disconnected?); skipped", name)
			continue
		}
		if err := seedHost(h, seed.Hosts[name]); err != nil {
			return fail("seed host %q: %v", name, err)
		}
	}

	if len(seed.Vms) > 0 {
		vms := map[string]*simulator.VirtualMachine{}
		var vmNames []string
		for _, e := range simulator.Map.All("VirtualMachine") {
			if vm, ok := e.(*simulator.VirtualMachine); ok {
				vms[vm.Name] = vm
				vms[vm.Self.Value] = vm
				vmNames = append(vmNames, vm.Name)
			}
		}
		for _, name := range sortedKeys(seed.Vms) {
			vm, ok := vms[name]
			if !ok {
				warn("seed VM %q not found (VMs: %s)", name, sample(vmNames))
				continue
			}
			if err := seedVM(vm, seed.Vms[name]); err != nil {
				return fail("seed VM %q: %v", name, err)
			}
		}
	}

	// ServiceContent.about: vCenter's own product, or in ESX mode the host's product.
	si := simulator.Map.Get(vim25.ServiceInstance).(*simulator.ServiceInstance)
	if o.esxMode {
		if h, ok := hosts["ha-host"]; ok && h.Config != nil {
			p := h.Config.Product
			si.Content.About.Version = p.Version
			si.Content.About.Build = p.Build
			si.Content.About.ApiVersion = p.ApiVersion
			si.Content.About.FullName = p.FullName
		}
	} else {
		patchProduct(&si.Content.About, o.vcVersion, o.vcBuild, o.apiVersion)
	}
	// A fresh Service re-reads the service content (vimServiceVersions.xml reports its apiVersion).
	model.Service = simulator.New(si)
	return 0
}

func seedHost(h *simulator.HostSystem, s hostSeed) error {
	patchProduct(&h.Config.Product, s.Version, s.Build, "")

	for _, key := range sortedKeys(s.ServicesRunning) {
		found := false
		if h.Config.Service != nil {
			for i := range h.Config.Service.Service {
				svc := &h.Config.Service.Service[i]
				if svc.Key != key {
					continue
				}
				found = true
				svc.Running = s.ServicesRunning[key]
				if svc.Running {
					svc.Policy = "on"
				} else {
					svc.Policy = "off"
				}
			}
		}
		if !found {
			warn("host %q has no service %q", h.Name, key)
		}
	}

	if s.LockdownMode != "" {
		switch types.HostLockdownMode(s.LockdownMode) {
		case types.HostLockdownModeLockdownDisabled, types.HostLockdownModeLockdownNormal, types.HostLockdownModeLockdownStrict:
			h.Config.LockdownMode = types.HostLockdownMode(s.LockdownMode)
			h.Config.AdminDisabled = types.NewBool(s.LockdownMode != string(types.HostLockdownModeLockdownDisabled))
		default:
			return fmt.Errorf("lockdownMode %q: expected lockdownDisabled, lockdownNormal or lockdownStrict", s.LockdownMode)
		}
	}

	if len(s.AdvancedOptions) > 0 {
		if h.ConfigManager.AdvancedOption == nil {
			return fmt.Errorf("the host has no advanced option manager")
		}
		om, ok := simulator.Map.Get(*h.ConfigManager.AdvancedOption).(*simulator.OptionManager)
		if !ok {
			return fmt.Errorf("the host has no advanced option manager")
		}
		values := map[string]interface{}{}
		for _, key := range sortedKeys(s.AdvancedOptions) {
			v, err := optionValue(s.AdvancedOptions[key])
			if err != nil {
				return fmt.Errorf("advancedOptions %q: %v", key, err)
			}
			values[key] = v
		}
		var list []types.BaseOptionValue
		for _, opt := range om.Setting {
			ov := opt.GetOptionValue()
			if _, replaced := values[ov.Key]; !replaced {
				list = append(list, &types.OptionValue{Key: ov.Key, Value: ov.Value})
			}
		}
		for key, v := range values {
			list = append(list, &types.OptionValue{Key: key, Value: v})
		}
		sortOptions(list)
		om.Setting = list
		h.Config.Option = list
	}
	return nil
}

// optionValue keeps the JSON type: string -> xsd:string, integer -> xsd:long, other number -> xsd:double, bool -> xsd:boolean.
func optionValue(raw json.RawMessage) (interface{}, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v interface{}
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case string, bool:
		return x, nil
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, nil
		}
		return x.Float64()
	default:
		return nil, fmt.Errorf("expected a string, number or boolean")
	}
}

func seedVM(vm *simulator.VirtualMachine, s vmSeed) error {
	if vm.Config == nil {
		return fmt.Errorf("the VM has no configuration")
	}
	if len(s.ExtraConfig) > 0 {
		// Seeded keys replace existing ones (no duplicates); the list is kept in key order.
		var list []types.BaseOptionValue
		seen := map[string]bool{}
		for _, opt := range vm.Config.ExtraConfig {
			ov := opt.GetOptionValue()
			if _, replaced := s.ExtraConfig[ov.Key]; replaced || seen[ov.Key] {
				continue
			}
			seen[ov.Key] = true
			list = append(list, &types.OptionValue{Key: ov.Key, Value: ov.Value})
		}
		for key, value := range s.ExtraConfig {
			list = append(list, &types.OptionValue{Key: key, Value: value})
		}
		sortOptions(list)
		vm.Config.ExtraConfig = list
	}
	switch s.Firmware {
	case "":
	case string(types.GuestOsDescriptorFirmwareTypeBios), string(types.GuestOsDescriptorFirmwareTypeEfi):
		vm.Config.Firmware = s.Firmware
	default:
		return fmt.Errorf("firmware %q: expected bios or efi", s.Firmware)
	}
	if s.SecureBoot != nil {
		if *s.SecureBoot && vm.Config.Firmware != string(types.GuestOsDescriptorFirmwareTypeEfi) {
			return fmt.Errorf("secureBoot needs firmware efi")
		}
		if vm.Config.BootOptions == nil {
			vm.Config.BootOptions = &types.VirtualMachineBootOptions{}
		}
		vm.Config.BootOptions.EfiSecureBootEnabled = types.NewBool(*s.SecureBoot)
	}
	if s.HardwareVersion != "" {
		if !strings.HasPrefix(s.HardwareVersion, "vmx-") {
			return fmt.Errorf("hardwareVersion %q: expected vmx-NN", s.HardwareVersion)
		}
		vm.Config.Version = s.HardwareVersion
	}
	return nil
}

func copyOptions(in []types.BaseOptionValue) []types.BaseOptionValue {
	out := make([]types.BaseOptionValue, 0, len(in))
	for _, opt := range in {
		ov := opt.GetOptionValue()
		out = append(out, &types.OptionValue{Key: ov.Key, Value: ov.Value})
	}
	return out
}

func sortOptions(list []types.BaseOptionValue) {
	sort.SliceStable(list, func(i, j int) bool {
		return list[i].GetOptionValue().Key < list[j].GetOptionValue().Key
	})
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// sample lists a few names for a warning, so a large inventory does not flood stderr.
func sample(names []string) string {
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	if len(sorted) > 8 {
		return strings.Join(sorted[:8], ", ") + fmt.Sprintf(", ... (%d in all)", len(sorted))
	}
	return strings.Join(sorted, ", ")
}
