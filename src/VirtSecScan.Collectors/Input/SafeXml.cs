using System.Xml;
using System.Xml.Linq;

namespace VirtSecScan.Collectors.Input;

/// <summary>Loads untrusted XML: no DTD, nothing external resolved, entity expansion capped.</summary>
public static class SafeXml
{
    private static readonly XmlReaderSettings Settings = new() { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, MaxCharactersFromEntities = 1024 };

    /// <summary>The document; throws <see cref="XmlException"/> (with the line) when the text is not well-formed or declares a DTD.</summary>
    public static XDocument Parse(string text, LoadOptions options = LoadOptions.None)
    {
        using var reader = XmlReader.Create(new StringReader(text), Settings);
        return XDocument.Load(reader, options);
    }
}
