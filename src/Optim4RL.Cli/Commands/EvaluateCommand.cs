using System.CommandLine;
using Optim4RL.Experiments;

namespace Optim4RL.Cli.Commands;

/// <summary><c>optim4rl evaluate --run DIR [--episodes N] [--deterministic] [--seed S]</c>: reload a run's saved policy and measure its return.</summary>
internal static class EvaluateCommand
{
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "Run directory of an A2C or PPO run (logs/<config>/<k>), which holds policy_<task>.bin.", Required = true };
        var episodes = new Option<int?>("--episodes") { Description = "Episodes to run (default 1000 on discrete tasks, 128 on MuJoCo tasks)." };
        var deterministic = new Option<bool>("--deterministic") { Description = "Take the most likely action (argmax; PPO: tanh of the mean) instead of sampling as in training." };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the evaluation environments and action sampling.", DefaultValueFactory = _ => 0UL };
        var task = new Option<string?>("--task") { Description = "Evaluate only this task's policy (runs over several tasks save one per task)." };
        var cmd = new Command("evaluate",
            "Reload the policy an A2C or PPO run saved at the end of training (policy_<task>.bin) and run fresh episodes of its task: " +
            "prints the mean episode return ± its standard error, the number of episodes, and the final return the run logged. " +
            "On a meta-training run it says how to evaluate φ instead.")
        {
            run, episodes, deterministic, seed, task,
        };
        cmd.SetAction(pr =>
        {
            if (pr.GetValue(episodes) is < 1) return Ui.Error("--episodes must be ≥ 1.");
            ulong s = pr.GetValue(seed);
            try
            {
                foreach (var report in RunPolicies.Evaluate(pr.GetValue(run)!, pr.GetValue(episodes), pr.GetValue(deterministic), s, pr.GetValue(task)))
                    Console.Out.WriteLine(RunPolicies.Describe(report, s)); // one line, never wrapped
                return 0;
            }
            catch (Exception e) when (e is RunDirectoryException or InvalidDataException or IOException or ArgumentException or UnauthorizedAccessException or Envs.MuJoCo.MuJoCoException)
            {
                return Ui.Error(e);
            }
        });
        return cmd;
    }
}
