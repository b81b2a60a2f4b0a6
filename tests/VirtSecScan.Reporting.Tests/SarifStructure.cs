using System.Text.Json;

namespace VirtSecScan.Reporting.Tests;

/// <summary>
/// A focused structural check of SARIF 2.1.0 for the objects VirtSecScan writes: required properties, the allowed
/// property names of each object (the 2.1.0 schema allows no others outside property bags), enumerations and
/// ranges. Written from the specification; returns every problem with its JSON path.
/// </summary>
internal static class SarifStructure
{
    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["log"] = ["$schema", "version", "runs", "inlineExternalProperties", "properties"],
        ["run"] = ["tool", "invocations", "conversion", "language", "versionControlProvenance", "originalUriBaseIds", "artifacts", "logicalLocations", "graphs", "results",
            "automationDetails", "runAggregates", "baselineGuid", "redactionTokens", "defaultEncoding", "defaultSourceLanguage", "newlineSequences", "columnKind",
            "externalPropertyFileReferences", "threadFlowLocations", "taxonomies", "addresses", "translations", "policies", "webRequests", "webResponses", "specialLocations", "properties"],
        ["tool"] = ["driver", "extensions", "properties"],
        ["toolComponent"] = ["guid", "name", "organization", "product", "productSuite", "shortDescription", "fullDescription", "fullName", "version", "semanticVersion",
            "dottedQuadFileVersion", "releaseDateUtc", "downloadUri", "informationUri", "globalMessageStrings", "notifications", "rules", "taxa", "locations", "language",
            "contents", "isComprehensive", "localizedDataSemanticVersion", "minimumRequiredLocalizedDataSemanticVersion", "associatedComponent", "translationMetadata",
            "supportedTaxonomies", "properties"],
        ["reportingDescriptor"] = ["id", "deprecatedIds", "guid", "deprecatedGuids", "name", "deprecatedNames", "shortDescription", "fullDescription", "messageStrings",
            "defaultConfiguration", "helpUri", "help", "relationships", "properties"],
        ["multiformatMessageString"] = ["text", "markdown", "properties"],
        ["reportingConfiguration"] = ["enabled", "level", "rank", "parameters", "properties"],
        ["invocation"] = ["commandLine", "arguments", "responseFiles", "startTimeUtc", "endTimeUtc", "exitCode", "ruleConfigurationOverrides", "notificationConfigurationOverrides",
            "toolExecutionNotifications", "toolConfigurationNotifications", "exitCodeDescription", "exitSignalName", "exitSignalNumber", "processStartFailureMessage",
            "executionSuccessful", "machine", "account", "processId", "executableLocation", "workingDirectory", "environmentVariables", "stdin", "stdout", "stderr",
            "stdoutStderr", "properties"],
        ["notification"] = ["locations", "message", "level", "threadId", "timeUtc", "exception", "descriptor", "associatedRule", "properties"],
        ["message"] = ["text", "markdown", "id", "arguments", "properties"],
        ["result"] = ["ruleId", "ruleIndex", "rule", "kind", "level", "message", "analysisTarget", "locations", "guid", "correlationGuid", "occurrenceCount",
            "partialFingerprints", "fingerprints", "stacks", "codeFlows", "graphs", "graphTraversals", "relatedLocations", "suppressions", "baselineState", "rank",
            "attachments", "hostedViewerUri", "workItemUris", "provenance", "fixes", "taxa", "webRequest", "webResponse", "properties"],
        ["location"] = ["id", "physicalLocation", "logicalLocations", "message", "annotations", "relationships", "properties"],
        ["physicalLocation"] = ["address", "artifactLocation", "region", "contextRegion", "properties"],
        ["artifactLocation"] = ["uri", "uriBaseId", "index", "description", "properties"],
        ["region"] = ["startLine", "startColumn", "endLine", "endColumn", "charOffset", "charLength", "byteOffset", "byteLength", "snippet", "message", "sourceLanguage", "properties"],
        ["logicalLocation"] = ["name", "index", "fullyQualifiedName", "decoratedName", "parentIndex", "kind", "properties"],
        ["suppression"] = ["guid", "kind", "status", "justification", "location", "properties"],
    };

    private static readonly string[] Levels = ["none", "note", "warning", "error"];
    private static readonly string[] Kinds = ["notApplicable", "pass", "fail", "review", "open", "informational"];

    public static List<string> Check(JsonElement log)
    {
        var errors = new List<string>();
        Object(log, "log", "$", errors);
        Require(log, "$", errors, "version", "runs");
        if (Str(log, "version") != "2.1.0")
        {
            errors.Add("$.version must be \"2.1.0\"");
        }

        if (!log.TryGetProperty("runs", out var runs) || runs.ValueKind != JsonValueKind.Array)
        {
            errors.Add("$.runs must be an array");
            return errors;
        }

        var r = 0;
        foreach (var run in runs.EnumerateArray())
        {
            var p = $"$.runs[{r++}]";
            Object(run, "run", p, errors);
            Require(run, p, errors, "tool");
            var driver = run.GetProperty("tool").GetProperty("driver");
            Object(run.GetProperty("tool"), "tool", p + ".tool", errors);
            Object(driver, "toolComponent", p + ".tool.driver", errors);
            Require(driver, p + ".tool.driver", errors, "name");
            var rules = driver.TryGetProperty("rules", out var rs) ? rs.EnumerateArray().ToList() : [];
            for (var i = 0; i < rules.Count; i++)
            {
                var rp = $"{p}.tool.driver.rules[{i}]";
                Object(rules[i], "reportingDescriptor", rp, errors);
                Require(rules[i], rp, errors, "id");
                foreach (var name in new[] { "shortDescription", "fullDescription", "help" })
                {
                    if (rules[i].TryGetProperty(name, out var m))
                    {
                        Object(m, "multiformatMessageString", $"{rp}.{name}", errors);
                        Require(m, $"{rp}.{name}", errors, "text");
                    }
                }

                if (rules[i].TryGetProperty("defaultConfiguration", out var dc))
                {
                    Object(dc, "reportingConfiguration", rp + ".defaultConfiguration", errors);
                    Enum(dc, "level", Levels, rp + ".defaultConfiguration", errors);
                }
            }

            if (run.TryGetProperty("invocations", out var invocations))
            {
                var n = 0;
                foreach (var inv in invocations.EnumerateArray())
                {
                    var ip = $"{p}.invocations[{n++}]";
                    Object(inv, "invocation", ip, errors);
                    Require(inv, ip, errors, "executionSuccessful");
                    if (inv.TryGetProperty("toolExecutionNotifications", out var notes))
                    {
                        var k = 0;
                        foreach (var note in notes.EnumerateArray())
                        {
                            var np = $"{ip}.toolExecutionNotifications[{k++}]";
                            Object(note, "notification", np, errors);
                            Require(note, np, errors, "message");
                            Message(note.GetProperty("message"), np + ".message", errors);
                            Enum(note, "level", Levels, np, errors);
                            Locations(note, np, errors);
                        }
                    }
                }
            }

            if (!run.TryGetProperty("results", out var results))
            {
                continue;
            }

            var withSuppressions = 0;
            var total = 0;
            foreach (var result in results.EnumerateArray())
            {
                var xp = $"{p}.results[{total++}]";
                Object(result, "result", xp, errors);
                Require(result, xp, errors, "message");
                Message(result.GetProperty("message"), xp + ".message", errors);
                Enum(result, "level", Levels, xp, errors);
                Enum(result, "kind", Kinds, xp, errors);
                if (result.TryGetProperty("kind", out var kind) && kind.GetString() != "fail" && Str(result, "level") is { } lvl && lvl != "none")
                {
                    errors.Add($"{xp}.level must be none when kind is not fail");
                }

                if (result.TryGetProperty("ruleIndex", out var ri))
                {
                    var index = ri.GetInt32();
                    if (index < -1 || index >= rules.Count)
                    {
                        errors.Add($"{xp}.ruleIndex {index} is outside tool.driver.rules");
                    }
                    else if (index >= 0 && Str(rules[index], "id") != Str(result, "ruleId"))
                    {
                        errors.Add($"{xp}.ruleIndex points at rule {Str(rules[index], "id")}, not {Str(result, "ruleId")}");
                    }
                }

                if (result.TryGetProperty("rank", out var rank) && (rank.GetDouble() < -1 || rank.GetDouble() > 100))
                {
                    errors.Add($"{xp}.rank must be -1 or 0..100");
                }

                if (result.TryGetProperty("partialFingerprints", out var pf))
                {
                    foreach (var prop in pf.EnumerateObject().Where(x => x.Value.ValueKind != JsonValueKind.String))
                    {
                        errors.Add($"{xp}.partialFingerprints.{prop.Name} must be a string");
                    }
                }

                Locations(result, xp, errors);
                if (result.TryGetProperty("suppressions", out var sups))
                {
                    withSuppressions++;
                    var s = 0;
                    foreach (var sup in sups.EnumerateArray())
                    {
                        var sp = $"{xp}.suppressions[{s++}]";
                        Object(sup, "suppression", sp, errors);
                        Require(sup, sp, errors, "kind");
                        Enum(sup, "kind", ["inSource", "external"], sp, errors);
                        Enum(sup, "status", ["accepted", "underReview", "rejected"], sp, errors);
                    }
                }
            }

            if (withSuppressions != 0 && withSuppressions != total)
            {
                errors.Add($"{p}: suppressions must be present on all results or on none ({withSuppressions} of {total})");
            }
        }

        return errors;
    }

    private static void Locations(JsonElement owner, string path, List<string> errors)
    {
        if (!owner.TryGetProperty("locations", out var locations))
        {
            return;
        }

        var i = 0;
        foreach (var loc in locations.EnumerateArray())
        {
            var lp = $"{path}.locations[{i++}]";
            Object(loc, "location", lp, errors);
            if (loc.TryGetProperty("physicalLocation", out var phys))
            {
                Object(phys, "physicalLocation", lp + ".physicalLocation", errors);
                if (phys.TryGetProperty("artifactLocation", out var art))
                {
                    Object(art, "artifactLocation", lp + ".physicalLocation.artifactLocation", errors);
                    if (Str(art, "uri") is { } uri && !Uri.IsWellFormedUriString(uri, UriKind.RelativeOrAbsolute))
                    {
                        errors.Add($"{lp}.physicalLocation.artifactLocation.uri is not a URI reference: {uri}");
                    }
                }

                if (phys.TryGetProperty("region", out var region))
                {
                    Object(region, "region", lp + ".physicalLocation.region", errors);
                    if (region.TryGetProperty("startLine", out var sl) && sl.GetInt32() < 1)
                    {
                        errors.Add($"{lp}.physicalLocation.region.startLine must be >= 1");
                    }
                }
            }

            if (loc.TryGetProperty("logicalLocations", out var logicals))
            {
                var k = 0;
                foreach (var logical in logicals.EnumerateArray())
                {
                    Object(logical, "logicalLocation", $"{lp}.logicalLocations[{k++}]", errors);
                }
            }
        }
    }

    private static void Message(JsonElement m, string path, List<string> errors)
    {
        Object(m, "message", path, errors);
        if (!m.TryGetProperty("text", out _) && !m.TryGetProperty("id", out _))
        {
            errors.Add($"{path} needs text or id");
        }
    }

    private static void Object(JsonElement e, string kind, string path, List<string> errors)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{path} must be an object");
            return;
        }

        foreach (var prop in e.EnumerateObject().Where(x => !Allowed[kind].Contains(x.Name)))
        {
            errors.Add($"{path}.{prop.Name} is not a property of {kind}");
        }

        if (e.TryGetProperty("properties", out var bag) && bag.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{path}.properties must be an object (property bag)");
        }
    }

    private static void Require(JsonElement e, string path, List<string> errors, params string[] names)
    {
        foreach (var name in names.Where(n => !e.TryGetProperty(n, out _)))
        {
            errors.Add($"{path}.{name} is required");
        }
    }

    private static void Enum(JsonElement e, string name, string[] values, string path, List<string> errors)
    {
        if (e.TryGetProperty(name, out var v) && !values.Contains(v.GetString()))
        {
            errors.Add($"{path}.{name} '{v}' is not one of {string.Join(", ", values)}");
        }
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
