using BenchmarkDotNet.Running;

// Run one group with `dotnet run -c Release --project tests/Aiops.Benchmarks -- --filter '*Detector*'`.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
