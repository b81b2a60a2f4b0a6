using VirtSecScan.Collectors.Input;

namespace VirtSecScan.Collectors.Tests;

public sealed class InputReaderTests
{
    [Fact]
    public void Read_FileWithNulBytes_IsSkippedAsBinary()
    {
        using var temp = new TempDir();
        var path = temp.File("disk.vmx");
        File.WriteAllBytes(path, [0x4B, 0x44, 0x4D, 0x56, 0x00, 0x01, 0x00, 0x00, (byte)'x']);

        var (file, problem, skipReason) = InputReader.Read(path, "disk.vmx");

        Assert.Null(file);
        Assert.Null(problem);
        Assert.Equal("binary file", skipReason);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Read_Utf16WithByteOrderMark_IsDecodedNotSkipped(bool bigEndian)
    {
        using var temp = new TempDir();
        var path = temp.File("get-vm.json");
        var encoding = new System.Text.UnicodeEncoding(bigEndian, true);
        File.WriteAllBytes(path, [.. encoding.GetPreamble(), .. encoding.GetBytes("[{\"VMName\": \"his-01\"}]\r\n")]);

        var (file, problem, skipReason) = InputReader.Read(path, "get-vm.json");

        Assert.Null(problem);
        Assert.Null(skipReason);
        Assert.NotNull(file);
        Assert.Equal("[{\"VMName\": \"his-01\"}]\r\n", file.Text);
    }

    [Fact]
    public void Read_FileOverSizeLimit_IsSkippedWithWarning()
    {
        using var temp = new TempDir();
        var path = temp.File("big.vmx");
        File.WriteAllText(path, new string('a', 64));

        var (file, problem, skipReason) = InputReader.Read(path, "vms/big.vmx", maxBytes: 16);

        Assert.Null(file);
        Assert.NotNull(problem);
        Assert.Equal("warning", problem.Level);
        Assert.Equal("vms/big.vmx", problem.File);
        Assert.Contains("16", problem.Message, StringComparison.Ordinal);
        Assert.Contains("64", problem.Message, StringComparison.Ordinal);
        Assert.Equal("too large", skipReason);
    }

    [Fact]
    public void Read_FileExactlyAtSizeLimit_IsRead()
    {
        using var temp = new TempDir();
        var path = temp.File("edge.vmx");
        File.WriteAllText(path, new string('a', 16));

        var (file, problem, skipReason) = InputReader.Read(path, "edge.vmx", maxBytes: 16);

        Assert.NotNull(file);
        Assert.Equal(new string('a', 16), file.Text);
        Assert.Null(problem);
        Assert.Null(skipReason);
    }
}
