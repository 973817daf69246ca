using Optim4RL.Optimizers;
using static Optim4RL.Tests.Optimizers.OptimizerTestUtil;

namespace Optim4RL.Tests.Optimizers;

/// <summary>Checkpointing (Save/Load) and reset (Clear) of optimizer states.</summary>
public class OptimizerStateTests
{
    public static TheoryData<string> AllOptimizers => HandDesignedOptimizerTests.AllOptimizers;

    [Theory]
    [MemberData(nameof(AllOptimizers))]
    public void Saved_state_continues_identically_after_load(string name)
    {
        var opt = HandDesignedOptimizerTests.Make(name);
        var state = opt.Init(P);
        Run(opt, state, 3, seed: 30);

        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true)) state.Save(w);
        var after = Run(opt, state, 3, seed: 40);

        var restored = opt.Init(P);
        ms.Position = 0;
        using (var r = new BinaryReader(ms)) restored.Load(r);
        Assert.Equal(3, name == "chain" ? restored.Children[2].Count : restored.Count);
        var again = Run(opt, restored, 3, seed: 40);
        for (int k = 0; k < 3; k++) BitwiseEqual(after[k], again[k]);
    }

    [Fact]
    public void Loading_another_optimizers_state_fails()
    {
        var adamState = new Adam(1e-3).Init(8);
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true)) new RmsProp(1e-3).Init(8).Save(w);
        ms.Position = 0;
        using var r = new BinaryReader(ms);
        Assert.Throws<InvalidDataException>(() => adamState.Load(r));
    }

    [Theory]
    [MemberData(nameof(AllOptimizers))]
    public void Clear_resets_to_a_fresh_state(string name)
    {
        var opt = HandDesignedOptimizerTests.Make(name);
        var state = opt.Init(P);
        Run(opt, state, 4, seed: 50);
        state.Clear();
        Assert.Equal(0, state.Count);
        var fresh = opt.Init(P);
        var a = Run(opt, state, 2, seed: 60);
        var b = Run(opt, fresh, 2, seed: 60);
        for (int k = 0; k < 2; k++) BitwiseEqual(b[k], a[k]);
    }
}
