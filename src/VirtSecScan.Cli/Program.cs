using VirtSecScan.Cli.Commands;

namespace VirtSecScan.Cli;

public static class Program
{
    public static int Main(string[] args) => CommandLine.Run(args, Console.Out, Console.Error);
}
