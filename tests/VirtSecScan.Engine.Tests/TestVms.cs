using VirtSecScan.Collectors.Input;
using VirtSecScan.Collectors.Vmware;
using VirtSecScan.Core.Facts;

namespace VirtSecScan.Engine.Tests;

/// <summary>Builds VM facts the way a scan does: by parsing .vmx text with the VMX collector.</summary>
internal static class TestVms
{
    public static VmConfig Parse(string vmx, string displayPath = "test/test-vm.vmx")
    {
        var result = new VmxCollector().Collect(new InputFile(displayPath, vmx), VmxCollector.FormatId);
        return Assert.Single(result.Facts.OfType<VmConfig>());
    }

    /// <summary>1-based number of the first line of <paramref name="text"/> that contains <paramref name="marker"/>.</summary>
    public static int LineOf(string text, string marker)
    {
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].Contains(marker, StringComparison.Ordinal))
            {
                return i + 1;
            }
        }

        throw new ArgumentException($"'{marker}' is not in the text", nameof(marker));
    }
}
