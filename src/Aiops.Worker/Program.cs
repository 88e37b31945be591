using Aiops.Worker.Cli;

// Entry point of the `aiops` executable: run | demo | replay | bench | eval.
return await AiopsCommand.Create().Parse(args).InvokeAsync().ConfigureAwait(false);
