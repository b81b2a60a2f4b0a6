using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Collectors.Vmware;

namespace VirtSecScan.Engine.Live;

/// <summary>
/// The <c>vsphere</c> kind: talks to vCenter or an ESXi host through the vSphere Web Services SOAP API, read-only.
/// <list type="number">
/// <item><c>RetrieveServiceContent</c> (no session; gives the API version and the managed objects to use),</item>
/// <item><c>Login</c> with the user and password named in the targets file (environment variable or file),</item>
/// <item><c>CreateContainerView</c> over the root folder for <c>HostSystem</c> and <c>VirtualMachine</c>,</item>
/// <item>one <c>RetrievePropertiesEx</c> for every host's and VM's properties at once, then
/// <c>ContinueRetrievePropertiesEx</c> while the server pages the result,</item>
/// <item><c>DestroyView</c> and <c>Logout</c>.</item>
/// </list>
/// So the number of round trips does not grow with the number of VMs, only with the server's page count. The
/// responses go to the <see cref="Collectors.Vmware.VsphereSoapCollector"/> like a saved response file would.
/// TLS certificates are validated against the system's trust store; a target may instead pin the certificate's
/// SHA-256 (or SHA-1) thumbprint, which is then the only certificate accepted. The password is sent in the
/// Login body only and never appears in a status, log or exception text.
/// </summary>
internal static class VsphereCollection
{
    private const string SoapNs = "http://schemas.xmlsoap.org/soap/envelope/";

    /// <summary>Host properties read in the one bulk retrieval.</summary>
    private static readonly string[] HostPaths =
    [
        "name", "config.product", "config.option", "config.service", "config.firewall", "config.network.vswitch",
        "config.network.portgroup", "config.dateTimeInfo",
    ];

    /// <summary>VM properties read in the one bulk retrieval.</summary>
    private static readonly string[] VmPaths =
    [
        "name", "config.uuid", "config.instanceUuid", "config.version", "config.guestId", "config.firmware", "config.bootOptions",
        "config.flags", "config.extraConfig", "config.hardware.device", "runtime.host",
    ];

    /// <summary>Properties newer than some API versions: (type, path, first API version that has it).</summary>
    private static readonly (string Type, string Path, Version Since)[] VersionedPaths =
    [
        ("HostSystem", "config.lockdownMode", new Version(6, 0)),
        ("VirtualMachine", "config.migrateEncryption", new Version(6, 7)),
        ("VirtualMachine", "config.ftEncryptionMode", new Version(7, 0, 2)),
    ];

    /// <summary>Thrown inside the collection to end it with a classified reason (never holds a credential).</summary>
    private sealed class CollectionFailed(string reason) : Exception(reason);

    public static (TargetStatus Status, ImmutableArray<LiveCollected> Files) Collect(TargetSpec target, Stopwatch clock)
    {
        var user = Environment.GetEnvironmentVariable(target.UsernameEnv!);
        if (string.IsNullOrEmpty(user))
        {
            return (Failed(target, clock, $"authentication: the environment variable {target.UsernameEnv} (the user name) is not set", 0), []);
        }

        string? password;
        if (target.PasswordEnv is not null)
        {
            password = Environment.GetEnvironmentVariable(target.PasswordEnv);
            if (string.IsNullOrEmpty(password))
            {
                return (Failed(target, clock, $"authentication: the environment variable {target.PasswordEnv} (the password) is not set", 0), []);
            }
        }
        else
        {
            try
            {
                password = File.ReadAllText(target.PasswordFile!).TrimEnd('\r', '\n');
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                var kind = ex is FileNotFoundException or DirectoryNotFoundException ? "not-found" : "permission";
                return (Failed(target, clock, $"{kind}: the password file {target.PasswordFile} cannot be read ({ex.GetType().Name})", 0), []);
            }
        }

        var session = new Session(target, clock);
        try
        {
            return session.Run(user, password);
        }
        catch (CollectionFailed failed)
        {
            return (Failed(target, clock, failed.Message, session.RoundTrips), []);
        }
        finally
        {
            session.Dispose();
        }
    }

    private static TargetStatus Failed(TargetSpec target, Stopwatch clock, string reason, int roundTrips) =>
        new(target.Name, target.Kind, "failed", reason, clock.ElapsedMilliseconds, []) { RoundTrips = roundTrips };

    private sealed class Session : IDisposable
    {
        private readonly TargetSpec _target;
        private readonly Stopwatch _clock;
        private readonly HttpClient _http;
        private readonly CancellationTokenSource _deadline;
        private readonly Uri _url;
        private string _soapAction = "urn:vim25/6.5";
        private string? _certificateProblem;

        public int RoundTrips { get; private set; }

        public Session(TargetSpec target, Stopwatch clock)
        {
            _target = target;
            _clock = clock;
            _url = new Uri(target.Url!);
            var remaining = target.Timeout - clock.Elapsed;
            _deadline = new CancellationTokenSource(remaining > TimeSpan.Zero ? remaining : TimeSpan.FromMilliseconds(1));
            var handler = new SocketsHttpHandler
            {
                CookieContainer = new CookieContainer(),
                UseProxy = false,
                AllowAutoRedirect = false,
                ConnectTimeout = target.CommandTimeout,
                SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = Validate },
            };
            _http = new HttpClient(handler) { Timeout = target.CommandTimeout };
        }

        public void Dispose()
        {
            _http.Dispose();
            _deadline.Dispose();
        }

        private bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
        {
            if (_target.Thumbprint is { } pinned)
            {
                if (certificate is null)
                {
                    _certificateProblem = "the server sent no certificate";
                    return false;
                }

                var want = Normalise(pinned);
                var sha256 = Convert.ToHexString(SHA256.HashData(certificate.GetRawCertData()));
                var sha1 = Convert.ToHexString(SHA1.HashData(certificate.GetRawCertData()));
                if (want == sha256 || want == sha1)
                {
                    return true;
                }

                _certificateProblem = $"the server's certificate (SHA-256 {Colons(sha256)}) does not match the pinned thumbprint";
                return false;
            }

            if (errors == SslPolicyErrors.None)
            {
                return true;
            }

            _certificateProblem = $"the server's certificate is not trusted ({errors}); install its CA or pin its thumbprint with 'thumbprint:'";
            return false;
        }

        public (TargetStatus, ImmutableArray<LiveCollected>) Run(string user, string password)
        {
            var files = ImmutableArray.CreateBuilder<LiveCollected>();
            var resources = ImmutableArray.CreateBuilder<ResourceStatus>();
            var step = Stopwatch.StartNew();

            var content = Call("RetrieveServiceContent", "<RetrieveServiceContent xmlns=\"urn:vim25\"><_this type=\"ServiceInstance\">ServiceInstance</_this></RetrieveServiceContent>");
            var returnval = Body(content).Descendants().First(e => e.Name.LocalName == "returnval");
            string Ref(string name) => returnval.Elements().FirstOrDefault(e => e.Name.LocalName == name)?.Value.Trim()
                                       ?? throw new CollectionFailed($"error: the service content has no {name}");
            var about = returnval.Elements().First(e => e.Name.LocalName == "about");
            var apiVersion = about.Elements().FirstOrDefault(e => e.Name.LocalName == "apiVersion")?.Value.Trim() ?? "6.5";
            _soapAction = "urn:vim25/" + apiVersion;
            files.Add(LiveCollection.CollectText(new InputFile($"vsphere://{_target.Name}/about.xml", Indent(content))));
            resources.Add(new ResourceStatus("about", "collected", null, step.ElapsedMilliseconds));

            var propertyCollector = Ref("propertyCollector");
            var sessionManager = Ref("sessionManager");
            var viewManager = Ref("viewManager");
            var rootFolder = Ref("rootFolder");

            Call("Login", $"<Login xmlns=\"urn:vim25\"><_this type=\"SessionManager\">{Esc(sessionManager)}</_this><userName>{Esc(user)}</userName><password>{Esc(password)}</password></Login>");
            try
            {
                step.Restart();
                var view = Body(Call("CreateContainerView",
                        $"<CreateContainerView xmlns=\"urn:vim25\"><_this type=\"ViewManager\">{Esc(viewManager)}</_this><container type=\"Folder\">{Esc(rootFolder)}</container>"
                        + "<type>HostSystem</type><type>VirtualMachine</type><recursive>true</recursive></CreateContainerView>"))
                    .Descendants().First(e => e.Name.LocalName == "returnval").Value.Trim();
                try
                {
                    var pages = Retrieve(propertyCollector, view, Version.TryParse(apiVersion, out var v) ? v : new Version(6, 5));
                    var merged = Merge(pages);
                    var collected = LiveCollection.CollectText(new InputFile($"vsphere://{_target.Name}/inventory.xml", merged.Text));
                    files.Add(collected);
                    foreach (var (kind, name, problem) in merged.Objects)
                    {
                        resources.Add(problem is null
                            ? new ResourceStatus($"{kind}/{name}", "collected", null, 0)
                            : new ResourceStatus($"{kind}/{name}", "failed", problem, 0)
                            {
                                Feeds = kind == "host" ? [UncollectedRules.EsxiHost, UncollectedRules.Patch(Core.Advisories.Products.Esxi)] : [UncollectedRules.VmwareVm],
                            });
                    }

                    if (collected.Output is null)
                    {
                        resources.Add(new ResourceStatus("inventory", "failed", $"error: {collected.SkipReason}", step.ElapsedMilliseconds));
                    }
                }
                finally
                {
                    TryCall("DestroyView", $"<DestroyView xmlns=\"urn:vim25\"><_this type=\"ContainerView\">{Esc(view)}</_this></DestroyView>");
                }
            }
            finally
            {
                TryCall("Logout", $"<Logout xmlns=\"urn:vim25\"><_this type=\"SessionManager\">{Esc(sessionManager)}</_this></Logout>");
            }

            var failed = resources.Count(r => r.Status == "failed");
            var status = new TargetStatus(_target.Name, _target.Kind, failed == 0 ? "collected" : "partial",
                failed == 0 ? null : $"{failed} of {resources.Count} resources could not be collected", _clock.ElapsedMilliseconds, resources.ToImmutable())
            {
                RoundTrips = RoundTrips,
            };
            return (status, files.ToImmutable());
        }

        /// <summary>RetrievePropertiesEx over the container view, then ContinueRetrievePropertiesEx until the last page.</summary>
        private List<XElement> Retrieve(string propertyCollector, string view, Version apiVersion)
        {
            string PropSet(string type) =>
                $"<propSet><type>{type}</type><all>false</all>"
                + string.Concat((type == "HostSystem" ? HostPaths : VmPaths)
                    .Concat(VersionedPaths.Where(p => p.Type == type && apiVersion >= p.Since).Select(p => p.Path))
                    .Select(p => $"<pathSet>{p}</pathSet>"))
                + "</propSet>";

            var spec = "<specSet>" + PropSet("HostSystem") + PropSet("VirtualMachine")
                       + $"<objectSet><obj type=\"ContainerView\">{Esc(view)}</obj><skip>true</skip>"
                       + "<selectSet xsi:type=\"TraversalSpec\"><name>view</name><type>ContainerView</type><path>view</path><skip>false</skip></selectSet>"
                       + "</objectSet></specSet>";
            var pages = new List<XElement>();
            var response = Call("RetrievePropertiesEx",
                $"<RetrievePropertiesEx xmlns=\"urn:vim25\"><_this type=\"PropertyCollector\">{Esc(propertyCollector)}</_this>{spec}<options><maxObjects>500</maxObjects></options></RetrievePropertiesEx>");
            while (true)
            {
                var body = Body(response);
                pages.Add(body);
                var token = body.Descendants().FirstOrDefault(e => e.Name.LocalName == "token")?.Value.Trim();
                if (string.IsNullOrEmpty(token))
                {
                    return pages;
                }

                response = Call("ContinueRetrievePropertiesEx",
                    $"<ContinueRetrievePropertiesEx xmlns=\"urn:vim25\"><_this type=\"PropertyCollector\">{Esc(propertyCollector)}</_this><token>{Esc(token)}</token></ContinueRetrievePropertiesEx>");
            }
        }

        /// <summary>All pages' objects in one RetrievePropertiesExResponse (as if the server had sent one page), indented for readable line numbers.</summary>
        private static (string Text, List<(string Kind, string Name, string? Problem)> Objects) Merge(List<XElement> pages)
        {
            XNamespace vim = "urn:vim25";
            var returnval = new XElement(vim + "returnval");
            var objects = new List<(string, string, string?)>();
            foreach (var page in pages)
            {
                foreach (var o in page.Descendants().Where(e => e.Name.LocalName == "objects").ToList())
                {
                    returnval.Add(o);
                    var type = (string?)o.Elements().First(e => e.Name.LocalName == "obj").Attribute("type") ?? "";
                    var name = o.Elements().Where(e => e.Name.LocalName == "propSet")
                        .FirstOrDefault(p => p.Elements().Any(c => c.Name.LocalName == "name" && c.Value == "name"))?
                        .Elements().FirstOrDefault(c => c.Name.LocalName == "val")?.Value.Trim()
                        ?? o.Elements().First(e => e.Name.LocalName == "obj").Value.Trim();
                    var missing = VsphereSoapCollector.MissingProperties(o).Select(m => m.Path).ToList();
                    var hasConfig = type != "VirtualMachine" || o.Elements().Any(e => e.Name.LocalName == "propSet" && e.Elements().Any(c => c.Name.LocalName == "name" && c.Value == "config.hardware.device"));
                    objects.Add((type == "HostSystem" ? "host" : "vm", name,
                        missing.Count > 0 ? $"permission: the server did not return {string.Join(", ", missing)}"
                        : hasConfig ? null : "error: the VM has no configuration (inaccessible or orphaned)"));
                }
            }

            // A secret option value (a VNC password in extraConfig ...) is judged by presence only; never keep it.
            foreach (var option in returnval.Descendants().Where(e => e.Name.LocalName is "OptionValue" or "BaseOptionValue"))
            {
                var key = option.Elements().FirstOrDefault(c => c.Name.LocalName == "key")?.Value;
                if (key is not null && Core.SecretKeys.IsSecret(key) && option.Elements().FirstOrDefault(c => c.Name.LocalName == "value") is { Value.Length: > 0 } value)
                {
                    value.Value = "(redacted)";
                }
            }

            XNamespace soap = SoapNs;
            XNamespace xsi = "http://www.w3.org/2001/XMLSchema-instance";
            XNamespace xsd = "http://www.w3.org/2001/XMLSchema";
            var envelope = new XElement(soap + "Envelope",
                new XAttribute(XNamespace.Xmlns + "soapenv", SoapNs),
                new XAttribute(XNamespace.Xmlns + "xsi", xsi.NamespaceName),
                new XAttribute(XNamespace.Xmlns + "xsd", xsd.NamespaceName),
                new XElement(soap + "Body", new XElement(vim + "RetrievePropertiesExResponse", new XAttribute("xmlns", vim.NamespaceName), returnval)));
            return (new XDocument(envelope).ToString(), objects);
        }

        private void TryCall(string method, string body)
        {
            try
            {
                Call(method, body);
            }
            catch (CollectionFailed)
            {
                // Cleanup after the data was read: its failure does not change what was collected.
            }
        }

        /// <summary>One SOAP request; a fault, HTTP error, TLS or network problem ends the collection with a classified reason.</summary>
        private string Call(string method, string body)
        {
            var remaining = _target.Timeout - _clock.Elapsed;
            if (remaining <= TimeSpan.Zero)
            {
                throw new CollectionFailed($"timeout: the target's time ran out before {method}");
            }

            var envelope = $"<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope xmlns:soapenv=\"{SoapNs}\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>";
            using var request = new HttpRequestMessage(HttpMethod.Post, _url) { Content = new StringContent(envelope, Encoding.UTF8, "text/xml") };
            request.Headers.TryAddWithoutValidation("SOAPAction", "\"" + _soapAction + "\"");
            RoundTrips++;
            string text;
            HttpStatusCode code;
            try
            {
                using var response = _http.Send(request, HttpCompletionOption.ResponseContentRead, _deadline.Token);
                code = response.StatusCode;
                using var reader = new StreamReader(response.Content.ReadAsStream(_deadline.Token), Encoding.UTF8);
                text = reader.ReadToEnd();
            }
            catch (HttpRequestException ex) when (_certificateProblem is not null || ex.InnerException is AuthenticationException)
            {
                throw new CollectionFailed($"authentication: TLS with {_url.Host}:{_url.Port} failed: {_certificateProblem ?? "handshake refused"}");
            }
            catch (HttpRequestException ex)
            {
                var socket = ex.InnerException as SocketException ?? ex.InnerException?.InnerException as SocketException;
                throw new CollectionFailed($"network: cannot reach {_url.Host}:{_url.Port} ({socket?.SocketErrorCode.ToString() ?? ex.HttpRequestError.ToString()})");
            }
            catch (OperationCanceledException)
            {
                throw new CollectionFailed($"timeout: {method} to {_url.Host}:{_url.Port} did not answer in time");
            }

            var fault = FaultOf(text);
            if (fault is not null)
            {
                throw new CollectionFailed(fault switch
                {
                    "InvalidLogin" => $"authentication: the server refused the login for the user in {_target.UsernameEnv} (InvalidLogin)",
                    "NotAuthenticated" => $"authentication: {method} needs a session the server does not accept (NotAuthenticated)",
                    "NoPermission" => $"permission: the user may not call {method} (NoPermission)",
                    _ => $"error: {method} failed with the SOAP fault {fault}",
                });
            }

            if (code != HttpStatusCode.OK)
            {
                throw new CollectionFailed(code is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
                    ? $"authentication: {method} was refused with HTTP {(int)code}"
                    : $"error: {method} answered HTTP {(int)code}; is {_url.AbsolutePath} the SDK endpoint (https://HOST/sdk)?");
            }

            return text;
        }

        /// <summary>The fault's type name (InvalidLogin, NoPermission ...) when the response is a SOAP fault, else null.</summary>
        private static string? FaultOf(string text)
        {
            if (!text.Contains("Fault>", StringComparison.Ordinal))
            {
                return null;
            }

            var fault = Parse(text)?.Descendants().FirstOrDefault(e => e.Name.LocalName == "Fault");
            return fault is null ? null : VsphereSoapCollector.FaultType(fault);
        }

        private static XElement Body(string text) =>
            Parse(text)?.Root?.Elements().FirstOrDefault(e => e.Name.LocalName == "Body")
            ?? throw new CollectionFailed("error: the server's answer is not a SOAP envelope");

        private static XDocument? Parse(string text)
        {
            try
            {
                return SafeXml.Parse(text);
            }
            catch (XmlException)
            {
                return null;
            }
        }

        private static string Indent(string text) => Parse(text)?.ToString() ?? text;
    }

    private static string Esc(string text) => SecurityElement.Escape(text);

    /// <summary>"AA:bb:..", "aabb.." or "AA bb .." → upper-case hex without separators.</summary>
    public static string Normalise(string thumbprint) =>
        new string(thumbprint.Where(Uri.IsHexDigit).ToArray()).ToUpperInvariant();

    private static string Colons(string hex) =>
        string.Join(':', Enumerable.Range(0, hex.Length / 2).Select(i => hex.Substring(i * 2, 2)));
}
