using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace VirtSecScan.Engine.Tests.Live;

/// <summary>
/// The vCenter simulator the vSphere collector is tested against (tests/Shared/Vcsim.cs, launcher in
/// tests/tools/vcsimlite). These tests talk raw SOAP with HttpClient and XDocument, no project code, to prove
/// the launcher serves what the seed says. Needs golang-go and golang-github-vmware-govmomi-dev (.ci/run).
/// </summary>
public sealed class VcsimTests : IClassFixture<VcsimTests.SeededVcenter>
{
    private static readonly XNamespace Vim = "urn:vim25";
    private static readonly XNamespace Xsi = "http://www.w3.org/2001/XMLSchema-instance";

    private readonly SeededVcenter _fixture;

    public VcsimTests(SeededVcenter fixture) => _fixture = fixture;

    /// <summary>One seeded vCenter shared by the tests of this class (startup ~0.3 s once the launcher is built).</summary>
    public sealed class SeededVcenter : IDisposable
    {
        public SeededVcenter()
        {
            Sim = Vcsim.Start(new VcsimOptions
            {
                Hosts = 2,
                StandaloneHosts = 0,
                Vms = 2,
                VcVersion = "8.0.2",
                VcBuild = "22385739",
                ApiVersion = "8.0.2.0",
                Username = "administrator@vsphere.local",
                Password = "test-only-Passw0rd",
                Seed = new Dictionary<string, object>
                {
                    ["hosts"] = new Dictionary<string, object>
                    {
                        ["DC0_C0_H0"] = new Dictionary<string, object>
                        {
                            ["version"] = "7.0.3",
                            ["build"] = "21930508",
                            ["servicesRunning"] = new Dictionary<string, bool> { ["TSM-SSH"] = true },
                            ["lockdownMode"] = "lockdownNormal",
                            ["advancedOptions"] = new Dictionary<string, object> { ["UserVars.ESXiShellInteractiveTimeOut"] = 900, ["Security.AccountUnlockTime"] = "900" },
                        },
                        ["DC0_C0_H1"] = new Dictionary<string, object> { ["version"] = "6.7.0", ["build"] = "8169922" },
                    },
                    ["vms"] = new Dictionary<string, object>
                    {
                        ["DC0_C0_RP0_VM0"] = new Dictionary<string, object>
                        {
                            ["extraConfig"] = new Dictionary<string, string> { ["isolation.tools.copy.disable"] = "FALSE", ["RemoteDisplay.vnc.enabled"] = "TRUE", ["govcsim"] = "seeded" },
                            ["firmware"] = "efi",
                            ["secureBoot"] = true,
                        },
                    },
                },
            });
        }

        internal Vcsim Sim { get; }

        public void Dispose() => Sim.Dispose();
    }

    [Fact]
    public async Task Seeded_vcenter_serves_its_about_host_builds_services_options_and_vm_extraConfig_after_login()
    {
        var sim = _fixture.Sim;
        Assert.Equal("https", sim.Url.Scheme);
        Assert.Equal("127.0.0.1", sim.Url.Host);
        Assert.Equal("/sdk", sim.Url.AbsolutePath);
        Assert.Equal(string.Empty, sim.Url.UserInfo);

        using var soap = new Soap(sim.Url, sim.Certificate);
        var about = (await soap.RetrieveServiceContent()).Element(Vim + "about")!;
        Assert.Equal("VMware vCenter Server 8.0.2 build-22385739", about.Element(Vim + "fullName")?.Value);
        Assert.Equal("8.0.2.0", about.Element(Vim + "apiVersion")?.Value);

        var login = await soap.Login(sim.Username!, sim.Password!);
        Assert.Equal(HttpStatusCode.OK, login.Status);
        Assert.Equal("administrator@vsphere.local", login.Body.Descendants(Vim + "userName").Single().Value);

        var hosts = Objects((await soap.Call(RetrieveHosts(soap, "name", "config.product", "config.service", "config.lockdownMode", "config.option"))).Body);
        Assert.Equal(["DC0_C0_H0", "DC0_C0_H1"], hosts.Keys.Order(StringComparer.Ordinal));
        var h0 = hosts["DC0_C0_H0"];
        var h1 = hosts["DC0_C0_H1"];
        Assert.Equal("AboutInfo", (string?)h0["config.product"].Attribute(Xsi + "type"));
        Assert.Equal("21930508", h0["config.product"].Element(Vim + "build")?.Value);
        Assert.Equal("VMware ESXi 7.0.3 build-21930508", h0["config.product"].Element(Vim + "fullName")?.Value);
        Assert.Equal("8169922", h1["config.product"].Element(Vim + "build")?.Value);
        Assert.Equal("VMware ESXi 6.7.0 build-8169922", h1["config.product"].Element(Vim + "fullName")?.Value);

        Assert.Equal(("true", "on"), Service(h0, "TSM-SSH"));
        Assert.Equal(("false", "off"), Service(h1, "TSM-SSH"));
        Assert.Equal("lockdownNormal", h0["config.lockdownMode"].Value);
        Assert.Equal("lockdownDisabled", h1["config.lockdownMode"].Value);
        var h0Options = Options(h0["config.option"]);
        Assert.Equal(("900", "xsd:long"), h0Options["UserVars.ESXiShellInteractiveTimeOut"]);
        Assert.Equal(("900", "xsd:string"), h0Options["Security.AccountUnlockTime"]);
        Assert.False(Options(h1["config.option"]).ContainsKey("UserVars.ESXiShellInteractiveTimeOut"));

        var vms = Objects((await soap.Call(RetrieveVms(soap, "name", "config.extraConfig", "config.firmware", "config.bootOptions"))).Body);
        Assert.Equal(2, vms.Count);
        var vm = vms["DC0_C0_RP0_VM0"];
        var extra = vm["config.extraConfig"].Elements(Vim + "OptionValue").Select(o => o.Element(Vim + "key")!.Value).ToList();
        Assert.Equal(["RemoteDisplay.vnc.enabled", "govcsim", "isolation.tools.copy.disable"], extra); // replaced, not duplicated; in key order
        var extraValues = Options(vm["config.extraConfig"]);
        Assert.Equal("FALSE", extraValues["isolation.tools.copy.disable"].Value);
        Assert.Equal("seeded", extraValues["govcsim"].Value);
        Assert.Equal("efi", vm["config.firmware"].Value);
        Assert.Equal("true", vm["config.bootOptions"].Element(Vim + "efiSecureBootEnabled")?.Value);
        Assert.Equal("bios", vms["DC0_C0_RP0_VM1"]["config.firmware"].Value);
    }

    [Fact]
    public async Task A_wrong_password_is_an_InvalidLogin_fault_and_properties_stay_unreadable()
    {
        var sim = _fixture.Sim;
        using var soap = new Soap(sim.Url, sim.Certificate);
        await soap.RetrieveServiceContent();
        var login = await soap.Login(sim.Username!, "wrong-password");
        Assert.Equal(HttpStatusCode.InternalServerError, login.Status);
        var fault = login.Body.Descendants(XName.Get("Fault", "http://schemas.xmlsoap.org/soap/envelope/")).Single();
        Assert.Equal("Login failure", fault.Element("faultstring")?.Value);
        Assert.Equal("InvalidLogin", (string?)fault.Descendants(Vim + "InvalidLoginFault").Single().Attribute(Xsi + "type"));

        // Not logged in: the simulator answers 200 with NotAuthenticated per property (real vCenter: a SOAP fault).
        await soap.RetrieveServiceContent();
        var read = await soap.Call(RetrieveHosts(soap, "config.product"));
        Assert.DoesNotContain("21930508", read.Text, StringComparison.Ordinal);
        Assert.Contains("NotAuthenticated", read.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Esx_mode_is_one_standalone_host_whose_product_is_the_service_about()
    {
        using var sim = Vcsim.Start(new VcsimOptions
        {
            Esx = true,
            Vms = 1,
            HostVersion = "6.7.0",
            HostBuild = "8169922",
            Seed = """{"hosts": {"ha-host": {"servicesRunning": {"TSM": true}}}, "vms": {"no-such-vm": {"firmware": "efi"}}}""",
        });
        Assert.Contains("seed VM \"no-such-vm\" not found", sim.StandardError, StringComparison.Ordinal);
        Assert.Null(sim.Username);

        using var soap = new Soap(sim.Url, sim.Certificate);
        var about = (await soap.RetrieveServiceContent()).Element(Vim + "about")!;
        Assert.Equal("HostAgent", about.Element(Vim + "apiType")?.Value);
        Assert.Equal("VMware ESXi 6.7.0 build-8169922", about.Element(Vim + "fullName")?.Value);
        Assert.Equal("8169922", about.Element(Vim + "build")?.Value);

        Assert.Equal("ha-sessionmgr", soap.Ref("sessionManager")); // take MoRefs from the service content, never hard-code them
        Assert.Equal(HttpStatusCode.OK, (await soap.Login("root", "any-password")).Status); // no credentials configured: any pair
        var hosts = Objects((await soap.Call(RetrieveHosts(soap, "name", "config.product", "config.service"))).Body);
        var host = Assert.Single(hosts).Value;
        Assert.Equal("8169922", host["config.product"].Element(Vim + "build")?.Value);
        Assert.Equal(("true", "on"), Service(host, "TSM"));
        Assert.Equal(("false", "off"), Service(host, "TSM-SSH"));
        Assert.Single(Objects((await soap.Call(RetrieveVms(soap, "name"))).Body));
    }

    private static (string? Running, string? Policy) Service(Dictionary<string, XElement> host, string key)
    {
        var s = host["config.service"].Descendants(Vim + "service").Single(x => x.Element(Vim + "key")?.Value == key);
        return (s.Element(Vim + "running")?.Value, s.Element(Vim + "policy")?.Value);
    }

    private static Dictionary<string, (string Value, string? Type)> Options(XElement array) =>
        array.Elements(Vim + "OptionValue").ToDictionary(
            o => o.Element(Vim + "key")!.Value,
            o => (o.Element(Vim + "value")!.Value, (string?)o.Element(Vim + "value")!.Attribute(Xsi + "type")));

    /// <summary>RetrievePropertiesEx objects by their <c>name</c> property: property path to its <c>val</c> element.</summary>
    private static Dictionary<string, Dictionary<string, XElement>> Objects(XDocument body) =>
        body.Descendants(Vim + "objects")
            .Select(o => o.Elements(Vim + "propSet").ToDictionary(p => p.Element(Vim + "name")!.Value, p => p.Element(Vim + "val")!))
            .ToDictionary(p => p.TryGetValue("name", out var n) ? n.Value : Guid.NewGuid().ToString());

    private static string PropertySpec(string type, string[] paths) =>
        $"<urn:propSet><urn:type>{type}</urn:type>{string.Concat(paths.Select(p => $"<urn:pathSet>{p}</urn:pathSet>"))}</urn:propSet>";

    private static string Traversal(string name, string type, string path, params string[] next) =>
        $"<urn:selectSet xsi:type=\"urn:TraversalSpec\"><urn:name>{name}</urn:name><urn:type>{type}</urn:type><urn:path>{path}</urn:path><urn:skip>false</urn:skip>" +
        string.Concat(next.Select(n => $"<urn:selectSet><urn:name>{n}</urn:name></urn:selectSet>")) + "</urn:selectSet>";

    private static string Retrieve(string propertyCollector, string rootFolder, string propSet, string traversals) =>
        $"<urn:RetrievePropertiesEx><urn:_this type=\"PropertyCollector\">{propertyCollector}</urn:_this><urn:specSet>" + propSet +
        $"<urn:objectSet><urn:obj type=\"Folder\">{rootFolder}</urn:obj><urn:skip>true</urn:skip>{traversals}</urn:objectSet>" +
        "</urn:specSet><urn:options/></urn:RetrievePropertiesEx>";

    /// <summary>Folder → Datacenter → host folder → ComputeResource → HostSystem.</summary>
    private static string RetrieveHosts(Soap soap, params string[] paths) => Retrieve(
        soap.Ref("propertyCollector"),
        soap.Ref("rootFolder"),
        PropertySpec("HostSystem", paths),
        Traversal("f2dc", "Folder", "childEntity", "f2dc", "dc2hf", "cr2h") + Traversal("dc2hf", "Datacenter", "hostFolder", "f2dc") + Traversal("cr2h", "ComputeResource", "host"));

    /// <summary>Folder → Datacenter → VM folder → VirtualMachine.</summary>
    private static string RetrieveVms(Soap soap, params string[] paths) => Retrieve(
        soap.Ref("propertyCollector"),
        soap.Ref("rootFolder"),
        PropertySpec("VirtualMachine", paths),
        Traversal("f2dc", "Folder", "childEntity", "f2dc", "dc2vf") + Traversal("dc2vf", "Datacenter", "vmFolder", "f2dc"));

    /// <summary>A SOAP client that trusts exactly the simulator's certificate (pinned) and keeps the session cookie.</summary>
    private sealed class Soap : IDisposable
    {
        private readonly HttpClient _http;
        private readonly Uri _url;

        public Soap(Uri url, X509Certificate2 pinned)
        {
            _url = url;
            var handler = new SocketsHttpHandler
            {
                CookieContainer = new CookieContainer(),
                SslOptions = new SslClientAuthenticationOptions
                {
                    RemoteCertificateValidationCallback = (_, cert, _, _) => cert is not null && cert.GetCertHashString() == pinned.Thumbprint,
                },
            };
            _http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        }

        /// <summary>The service content; its MoRefs differ between vCenter and ESXi (e.g. <c>ha-sessionmgr</c>).</summary>
        public XDocument? Content { get; private set; }

        public async Task<XElement> RetrieveServiceContent()
        {
            Content = (await Call("<urn:RetrieveServiceContent><urn:_this type=\"ServiceInstance\">ServiceInstance</urn:_this></urn:RetrieveServiceContent>")).Body;
            return Content.Descendants(Vim + "returnval").Single();
        }

        public string Ref(string name) => Content!.Descendants(Vim + name).Single().Value;

        public Task<(HttpStatusCode Status, XDocument Body, string Text)> Login(string user, string password) => Call(
            $"<urn:Login><urn:_this type=\"SessionManager\">{Ref("sessionManager")}</urn:_this>" +
            $"<urn:userName>{SecurityElement(user)}</urn:userName><urn:password>{SecurityElement(password)}</urn:password></urn:Login>");

        public async Task<(HttpStatusCode Status, XDocument Body, string Text)> Call(string body)
        {
            var envelope = "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:urn=\"urn:vim25\" " +
                           "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><soapenv:Body>" + body + "</soapenv:Body></soapenv:Envelope>";
            using var request = new HttpRequestMessage(HttpMethod.Post, _url) { Content = new StringContent(envelope, Encoding.UTF8, "text/xml") };
            request.Headers.Add("SOAPAction", "\"urn:vim25/8.0\"");
            using var response = await _http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            using var reader = XmlReader.Create(new StringReader(text), new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
            return (response.StatusCode, XDocument.Load(reader), text);
        }

        public void Dispose() => _http.Dispose();

        private static string SecurityElement(string s) => System.Security.SecurityElement.Escape(s);
    }
}
