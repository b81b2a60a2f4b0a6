using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace VirtSecScan.Reporting.Tests;

/// <summary>A request the fake tracker received.</summary>
internal sealed record Recorded(string Method, string Path, string Body, string? Authorization);

/// <summary>A canned failure for the next request that matches: status, optional Retry-After, and whether the request still takes effect.</summary>
internal sealed record Fault(string Method, string PathPrefix, int Status, string? RetryAfter = null, bool ApplyAnyway = false);

/// <summary>
/// A local stand-in for Jira Cloud, ServiceNow and GitHub on 127.0.0.1 (HttpListener): it records every request,
/// keeps tickets in memory and answers with the real APIs' status codes and keys (201 + key on create, 204 on
/// Jira updates and transitions, 401 without the right token). Faults (429 with Retry-After, 5xx) are injected
/// per request. It stops when disposed; every request loop in the tests is bounded.
/// </summary>
internal sealed class FakeTrackerServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly string _expectedAuth;
    private readonly object _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _next = 1;

    public FakeTrackerServer(string expectedAuthorization)
    {
        _expectedAuth = expectedAuthorization;
        var port = FreePort();
        BaseUri = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(BaseUri.AbsoluteUri);
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public Uri BaseUri { get; }

    public List<Recorded> Requests { get; } = [];

    public List<Fault> Faults { get; } = [];

    /// <summary>Tickets by key: labels or correlation id, state, number of times written.</summary>
    public Dictionary<string, FakeTicket> Tickets { get; } = [];

    public int Count(string method, string pathPrefix)
    {
        lock (_gate)
        {
            return Requests.Count(r => r.Method == method && r.Path.StartsWith(pathPrefix, StringComparison.Ordinal));
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // listener closed
        }
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext ctx;
            try
            {
                ctx = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            using var reader = new StreamReader(ctx.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync().ConfigureAwait(false);
            var path = ctx.Request.RawUrl ?? "/";
            var rec = new Recorded(ctx.Request.HttpMethod, path, body, ctx.Request.Headers["Authorization"]);
            int status;
            string? answer;
            string? retryAfter = null;
            lock (_gate)
            {
                Requests.Add(rec);
                var fault = Faults.FirstOrDefault(f => f.Method == rec.Method && path.StartsWith(f.PathPrefix, StringComparison.Ordinal));
                if (rec.Authorization != _expectedAuth)
                {
                    (status, answer) = (401, "{\"errorMessages\":[\"You are not authenticated.\"]}");
                }
                else if (fault is not null)
                {
                    Faults.Remove(fault);
                    if (fault.ApplyAnyway)
                    {
                        Handle(rec);
                    }

                    (status, answer, retryAfter) = (fault.Status, "{\"errorMessages\":[\"injected\"]}", fault.RetryAfter);
                }
                else
                {
                    (status, answer) = Handle(rec);
                }
            }

            ctx.Response.StatusCode = status;
            if (retryAfter is not null)
            {
                ctx.Response.Headers["Retry-After"] = retryAfter;
            }

            if (answer is not null)
            {
                var bytes = Encoding.UTF8.GetBytes(answer);
                ctx.Response.ContentType = "application/json";
                await ctx.Response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
            }

            ctx.Response.Close();
        }
    }

    private (int, string?) Handle(Recorded r)
    {
        var json = string.IsNullOrEmpty(r.Body) ? null : JsonNode.Parse(r.Body);
        var path = r.Path.Split('?')[0];
        var query = r.Path.Contains('?') ? Uri.UnescapeDataString(r.Path[(r.Path.IndexOf('?') + 1)..]) : "";

        // Jira Cloud REST v3
        if (r.Method == "POST" && path == "/rest/api/3/search/jql")
        {
            var label = Regex.Match(json!["jql"]!.GetValue<string>(), "labels = \"([^\"]+)\"").Groups[1].Value;
            var found = new JsonArray([.. Tickets.Values.Where(t => t.Labels.Contains(label)).Select(t => (JsonNode)new JsonObject
            {
                ["id"] = t.Id, ["key"] = t.Key, ["fields"] = new JsonObject { ["status"] = new JsonObject { ["name"] = t.State } },
            })]);
            return (200, new JsonObject { ["issues"] = found, ["isLast"] = true }.ToJsonString());
        }

        if (r.Method == "POST" && path == "/rest/api/3/issue")
        {
            var fields = json!["fields"]!;
            if (fields["project"]?["key"] is null || fields["summary"] is null || fields["description"]?["type"]?.GetValue<string>() != "doc")
            {
                return (400, "{\"errorMessages\":[],\"errors\":{\"summary\":\"You must specify a summary of the issue.\"}}");
            }

            var n = _next++;
            var key = $"{fields["project"]!["key"]!.GetValue<string>()}-{n}";
            Tickets[key] = new FakeTicket(key, (10000 + n).ToString(System.Globalization.CultureInfo.InvariantCulture))
            {
                Labels = [.. fields["labels"]!.AsArray().Select(l => l!.GetValue<string>())],
            };
            return (201, new JsonObject { ["id"] = Tickets[key].Id, ["key"] = key, ["self"] = $"{BaseUri}rest/api/3/issue/{Tickets[key].Id}" }.ToJsonString());
        }

        var jira = Regex.Match(path, "^/rest/api/3/issue/([^/]+)(/transitions)?$");
        if (jira.Success)
        {
            if (!Tickets.TryGetValue(jira.Groups[1].Value, out var t))
            {
                return (404, "{\"errorMessages\":[\"Issue does not exist or you do not have permission to see it.\"],\"errors\":{}}");
            }

            if (jira.Groups[2].Success && r.Method == "GET")
            {
                return (200, "{\"transitions\":[{\"id\":\"11\",\"name\":\"To Do\"},{\"id\":\"21\",\"name\":\"In Progress\"},{\"id\":\"31\",\"name\":\"Done\"}]}");
            }

            if (jira.Groups[2].Success && r.Method == "POST")
            {
                t.State = json!["transition"]!["id"]!.GetValue<string>() switch { "31" => "Done", "11" => "To Do", var x => x };
                return (204, null);
            }

            if (r.Method == "PUT")
            {
                t.Writes++;
                return (204, null);
            }
        }

        // ServiceNow Table API
        if (path == "/api/now/table/incident" && r.Method == "GET")
        {
            var fp = Regex.Match(query, "correlation_id=([0-9a-f]+)").Groups[1].Value;
            var rows = new JsonArray([.. Tickets.Values.Where(t => t.Labels.Contains(fp)).Select(t => (JsonNode)new JsonObject { ["sys_id"] = t.Id, ["number"] = t.Key, ["state"] = t.State })]);
            return (200, new JsonObject { ["result"] = rows }.ToJsonString());
        }

        if (path == "/api/now/table/incident" && r.Method == "POST")
        {
            var n = _next++;
            var key = $"INC{n:0000000}";
            Tickets[key] = new FakeTicket(key, Guid.NewGuid().ToString("N")) { Labels = [json!["correlation_id"]!.GetValue<string>()], State = "1" };
            return (201, new JsonObject { ["result"] = new JsonObject { ["sys_id"] = Tickets[key].Id, ["number"] = key, ["state"] = "1" } }.ToJsonString());
        }

        var sn = Regex.Match(path, "^/api/now/table/incident/([0-9a-f]+)$");
        if (sn.Success && r.Method == "PATCH")
        {
            var t = Tickets.Values.FirstOrDefault(x => x.Id == sn.Groups[1].Value);
            if (t is null)
            {
                return (404, "{\"error\":{\"message\":\"No Record found\"},\"status\":\"failure\"}");
            }

            if (json!["state"] is { } state)
            {
                t.State = state.GetValue<string>();
            }

            t.Writes++;
            return (200, new JsonObject { ["result"] = new JsonObject { ["sys_id"] = t.Id, ["number"] = t.Key, ["state"] = t.State } }.ToJsonString());
        }

        // GitHub issues
        var gh = Regex.Match(path, "^/repos/([^/]+/[^/]+)/issues(?:/([0-9]+))?$");
        if (gh.Success)
        {
            if (r.Method == "GET")
            {
                var label = Regex.Match(query, "labels=([^&]+)").Groups[1].Value;
                var list = new JsonArray([.. Tickets.Values.Where(t => t.Labels.Contains(label)).Select(t => (JsonNode)new JsonObject { ["number"] = int.Parse(t.Key, System.Globalization.CultureInfo.InvariantCulture), ["node_id"] = t.Id, ["state"] = t.State })]);
                return (200, list.ToJsonString());
            }

            if (r.Method == "POST")
            {
                var n = _next++;
                var key = n.ToString(System.Globalization.CultureInfo.InvariantCulture);
                Tickets[key] = new FakeTicket(key, "I_" + key) { Labels = [.. json!["labels"]!.AsArray().Select(l => l!.GetValue<string>())], State = "open" };
                return (201, new JsonObject { ["number"] = n, ["node_id"] = "I_" + key, ["html_url"] = $"{BaseUri}{gh.Groups[1].Value}/issues/{n}", ["state"] = "open" }.ToJsonString());
            }

            if (r.Method == "PATCH" && Tickets.TryGetValue(gh.Groups[2].Value, out var t))
            {
                if (json!["state"] is { } state)
                {
                    t.State = state.GetValue<string>();
                }

                t.Writes++;
                return (200, new JsonObject { ["number"] = int.Parse(t.Key, System.Globalization.CultureInfo.InvariantCulture), ["state"] = t.State }.ToJsonString());
            }
        }

        return (404, "{\"message\":\"Not Found\"}");
    }
}

internal sealed class FakeTicket(string key, string id)
{
    public string Key { get; } = key;
    public string Id { get; } = id;
    public HashSet<string> Labels { get; init; } = [];
    public string State { get; set; } = "To Do";
    public int Writes { get; set; }
}
