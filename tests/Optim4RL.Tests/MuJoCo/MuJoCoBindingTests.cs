using System.Text;
using Optim4RL.Envs.MuJoCo;

namespace Optim4RL.Tests.MuJoCo;

/// <summary>The C#→MuJoCo 2.2.2 binding: loading, errors, warnings, arrays, stepping (docs/environments.md, "The MuJoCo binding").</summary>
public class MuJoCoBindingTests
{
    /// <summary>A small valid model: a floor and a free sphere.</summary>
    private const string BallXml = """
        <mujoco model="ball">
          <option timestep="0.01"/>
          <worldbody>
            <geom name="floor" type="plane" size="5 5 0.1"/>
            <body name="ball" pos="0 0 1">
              <freejoint name="free"/>
              <geom name="ball" type="sphere" size="0.1"/>
              <site name="top" pos="0 0 0.1"/>
            </body>
          </worldbody>
        </mujoco>
        """;

    /// <summary>
    /// 30 free spheres that start apart (so the model compiles with a small stack) and, when moved onto one spot,
    /// need far more stack than nstack = 3000 mjtNums: mj_step then raises MuJoCo's real "Stack overflow" error.
    /// </summary>
    private static string StackOverflowXml()
    {
        var sb = new StringBuilder("""<mujoco model="pile"><size nstack="3000" nconmax="1000" njmax="5000"/><worldbody><geom type="plane" size="1 1 1"/>""");
        for (int i = 0; i < 30; i++) sb.Append($"""<body pos="{0.5 * i} 0 1"><freejoint/><geom size="0.1"/></body>""");
        sb.Append("</worldbody></mujoco>");
        return sb.ToString();
    }

    [Fact]
    public void Library_is_MuJoCo_2_2_2_with_the_shims_hooks_installed()
    {
        Assert.True(MuJoCoLibrary.IsAvailable(out string? reason), reason);
        Assert.Equal(222, MuJoCoLibrary.Version);
        Assert.EndsWith("libo4r_mujoco.so", MuJoCoLibrary.ShimPath);
        unsafe
        {
            Assert.Equal(1, MuJoCoNative.Fn.HooksInstalled());
        }
    }

    [Theory]
    [InlineData("ant", 14, 9, 15, 14, 8, 0.911)]
    [InlineData("halfcheetah", 8, 9, 9, 9, 6, 14.0)]
    [InlineData("hopper", 5, 6, 6, 6, 3, 15.8)]
    [InlineData("walker2d", 8, 9, 9, 9, 6, 23.7)]
    [InlineData("humanoid", 14, 18, 24, 23, 17, 42.1)]
    [InlineData("inverted_pendulum", 3, 2, 2, 2, 1, 15.49)]
    [InlineData("inverted_double_pendulum", 4, 3, 3, 3, 1, 18.87)]
    public void Project_models_load_with_the_spec_sizes_and_masses(string name, int nbody, int njnt, int nq, int nv, int nu, double mass)
    {
        using var m = MuJoCoModels.Load(name);
        Assert.Equal((nbody, njnt, nq, nv, nu), (m.Nbody, m.Njnt, m.Nq, m.Nv, m.Nu));
        double total = 0;
        foreach (double x in m.BodyMass) total += x;
        Assert.Equal(mass, total, 0.01 * mass);
    }

    [Fact]
    public void Model_constants_options_and_names_are_read_through_the_x_macros()
    {
        using var m = MuJoCoModels.Load("humanoid");
        Assert.Equal(0.003, m.Timestep);
        Assert.Equal(MjIntegrator.RungeKutta4, m.Integrator);
        Assert.Equal(MjSolver.Pgs, m.Solver);
        Assert.Equal(50, m.Iterations);
        Assert.Equal(-9.81, m.Gravity[2]);
        Assert.Equal(new[] { 1.0, 0, 0, 0 }, m.Qpos0.Slice(3, 4).ToArray());
        Assert.Equal(1.4, m.Qpos0[2]);
        // ctrlrange ±0.4 and gears 100 (abdomen), 300 (hip_y), 25 (arms); rows of actuator_gear are 6 wide.
        Assert.Equal(-0.4, m.ActuatorCtrlRange[0]);
        Assert.Equal(0.4, m.ActuatorCtrlRange[1]);
        Assert.Equal(100, m.ActuatorGear[0]);
        Assert.Equal(300, m.ActuatorGear[6 * m.Name2Id(MjObjectType.Actuator, "right_hip_y")]);
        Assert.Equal(25, m.ActuatorGear[6 * 16]);
        var info = m.ArrayInfo("geom_friction");
        Assert.Equal((m.Ngeom, 3, MjElementKind.Double), (info.Rows, info.Columns, info.Kind));
        Assert.Equal(1, m.Name2Id(MjObjectType.Body, "torso"));
        Assert.Equal(-1, m.Name2Id(MjObjectType.Body, "no_such_body"));
        Assert.Equal("torso", m.Id2Name(MjObjectType.Body, 1));
        Assert.Equal(7, m.JointQposIndex("abdomen_z"));
        Assert.Equal(6, m.JointDofIndex("abdomen_z"));
        Assert.Throws<ArgumentException>(() => m.RequireId(MjObjectType.Joint, "nope"));
        Assert.Throws<ArgumentException>(() => m.Array<double>("no_such_array"));
        Assert.Throws<ArgumentException>(() => m.Array<double>("jnt_qposadr")); // int, not double
        Assert.True(m.GetInt("njmax") > 0);
    }

    [Fact]
    public void Data_arrays_have_the_model_shapes_and_a_generic_lookup()
    {
        using var m = MjModel.FromXmlString(BallXml, "ball.xml");
        using var d = m.MakeData();
        Assert.Equal(7, d.Qpos.Length);
        Assert.Equal(6, d.Qvel.Length);
        Assert.Equal(2 * 3, d.Xpos.Length);
        Assert.Equal(2 * 10, d.Cinert.Length);
        Assert.Equal(2 * 6, d.CfrcExt.Length);
        Assert.Equal(3, d.SiteXpos.Length);
        Assert.Equal(2 * 6, d.Array<double>("cacc").Length);
        Assert.Equal(MjElementKind.Int32, d.ArrayInfo("efc_type").Kind);
        Assert.True(d.GetInt("nstack") > 0);
        d.Forward();
        Assert.Equal(1.0, d.Xpos[5]);
        Assert.Equal(1.1, d.SiteXpos[2], 12);
    }

    [Fact]
    public void Missing_file_gives_a_clear_error_naming_the_path()
    {
        string path = Path.Combine(Path.GetTempPath(), "optim4rl_no_such_model_" + Guid.NewGuid().ToString("N") + ".xml");
        var e = Assert.Throws<MuJoCoException>(() => MjModel.LoadXml(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("does not exist", e.Message);
    }

    [Fact]
    public void Invalid_xml_file_gives_MuJoCos_parser_message_naming_the_file()
    {
        string path = Path.Combine(Path.GetTempPath(), "optim4rl_bad_" + Guid.NewGuid().ToString("N") + ".xml");
        File.WriteAllText(path, "<mujoco><worldbody><body></worldbody></mujoco>");
        try
        {
            var e = Assert.Throws<MuJoCoException>(() => MjModel.LoadXml(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("XML", e.Message, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Schema_and_compile_errors_from_text_are_reported_with_MuJoCos_text()
    {
        var schema = Assert.Throws<MuJoCoException>(() => MjModel.FromXmlString("<mujoco><worldbody><bodyy/></worldbody></mujoco>", "typo.xml"));
        Assert.Contains("typo.xml", schema.Message);
        Assert.Contains("bodyy", schema.Message);

        string unknownJoint = """
            <mujoco><worldbody><body><joint name="j"/><geom size="0.1"/></body></worldbody>
            <actuator><motor joint="no_such_joint"/></actuator></mujoco>
            """;
        var compile = Assert.Throws<MuJoCoException>(() => MjModel.FromXmlString(unknownJoint, "compile.xml"));
        Assert.Contains("no_such_joint", compile.Message);

        // The loader keeps working after failures.
        using var ok = MjModel.FromXmlString(BallXml, "ball.xml");
        Assert.Equal(7, ok.Nq);
    }

    [Fact]
    public void Engine_error_becomes_an_exception_instead_of_Press_Enter_and_exit()
    {
        string logFile = Path.Combine(Environment.CurrentDirectory, "MUJOCO_LOG.TXT");
        bool logBefore = File.Exists(logFile);

        // mju_error through the shim's guard: MuJoCo's default handler would print "Press Enter to exit", read
        // stdin and call exit(1); here the hook longjmps back and the call returns an error code.
        var e = Assert.Throws<MuJoCoException>(() => MuJoCoNative.RaiseError("synthetic failure 42"));
        Assert.Contains("synthetic failure 42", e.Message);

        // A real engine error inside mj_step: the solver's stack overflows.
        using var m = MjModel.FromXmlString(StackOverflowXml(), "pile.xml");
        using var d = m.MakeData();
        for (int b = 0; b < 30; b++)
        {
            d.Qpos[7 * b] = 0;
            d.Qpos[7 * b + 1] = 0;
            d.Qpos[7 * b + 2] = 0.05;
        }

        var overflow = Assert.Throws<MuJoCoException>(() => d.Step([], 1));
        Assert.Contains("Stack overflow", overflow.Message, StringComparison.OrdinalIgnoreCase);

        // The data was reset by the shim and steps normally again; the hooks are still in place.
        Assert.Equal(m.Qpos0.ToArray(), d.Qpos.ToArray());
        Assert.Equal(MjWarnings.None, d.Step([], 3));
        Assert.True(d.Time > 0);
        unsafe
        {
            Assert.Equal(1, MuJoCoNative.Fn.HooksInstalled());
        }

        if (!logBefore) Assert.False(File.Exists(logFile), "MuJoCo wrote MUJOCO_LOG.TXT: its default handler ran.");
    }

    [Fact]
    public void Engine_errors_on_parallel_threads_stay_on_their_own_thread()
    {
        var messages = new string[8];
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var e = Assert.Throws<MuJoCoException>(() => MuJoCoNative.RaiseError($"thread error {i}"));
            messages[i] = e.Message;
        });
        for (int i = 0; i < 8; i++) Assert.Contains($"thread error {i}", messages[i]);
    }

    [Fact]
    public void Warnings_are_routed_to_the_shim_not_printed()
    {
        var (count, text) = MuJoCoNative.RaiseWarning("synthetic warning 7");
        Assert.Equal(1, count);
        Assert.Contains("synthetic warning 7", text);
    }

    [Fact]
    public void Blown_up_simulation_is_reported_as_divergence_and_reset_by_MuJoCo()
    {
        using var m = MjModel.FromXmlString(BallXml, "ball.xml");
        using var d = m.MakeData();
        d.Forward();
        Assert.Equal(MjWarnings.None, d.Step([], 5));

        d.Qvel[0] = 1e12; // > 1e10: mj_checkVel raises BADQVEL and resets the data
        var w = d.Step([], 1);
        Assert.True((w & MjWarnings.BadQvel) != 0, $"warnings {w}");
        Assert.True((w & MjWarnings.Divergence) != 0);
        Assert.All(d.Qvel.ToArray(), v => Assert.True(Math.Abs(v) < 1));
        Assert.Equal(1.0, d.Qpos[2], 2); // back at the start pose

        d.Qpos[0] = double.NaN;
        w = d.Step([], 2);
        Assert.True((w & MjWarnings.BadQpos) != 0, $"warnings {w}");
        Assert.True(double.IsFinite(d.Qpos[0]));

        // Counters are cleared per call: a clean step reports nothing.
        Assert.Equal(MjWarnings.None, d.Step([], 1));
    }

    [Fact]
    public void Stepping_is_deterministic_and_ctrl_is_left_unclamped()
    {
        using var m = MuJoCoModels.Load("ant");
        using var a = m.MakeData();
        using var b = m.MakeData();
        var rng = new Optim4RL.Tensors.Rng(5);
        double[] ctrl = new double[m.Nu];
        for (int t = 0; t < 40; t++)
        {
            for (int j = 0; j < ctrl.Length; j++) ctrl[j] = 3 * (2 * rng.NextDouble() - 1);
            a.Step(ctrl, 5);
            b.Step(ctrl, 5);
            Assert.Equal(a.Qpos.ToArray(), b.Qpos.ToArray());
            Assert.Equal(a.Qvel.ToArray(), b.Qvel.ToArray());
        }

        // MuJoCo clamps to ctrlrange ±1 internally (actuator_force = clamped ctrl; the gear 150 enters through the
        // moment arm) but keeps ctrl as written.
        Assert.Equal(ctrl, a.Ctrl.ToArray());
        for (int j = 0; j < m.Nu; j++) Assert.Equal(Math.Clamp(ctrl[j], -1, 1), a.ActuatorForce[j], 12);
    }

    [Fact]
    public void Contact_forces_need_rnePostConstraint()
    {
        using var m = MjModel.FromXmlString(BallXml, "ball.xml");
        using var d = m.MakeData();
        d.Qpos[2] = 0.1; // resting on the floor
        d.Step([], 10);
        Assert.All(d.CfrcExt.ToArray(), v => Assert.Equal(0.0, v));
        d.Step([], 1, rnePostConstraint: true);
        double mass = m.BodyMass[1];
        Assert.Equal(mass * 9.81, d.CfrcExt[6 + 5], 0.05 * mass * 9.81); // body 1, force z ≈ weight
    }

    [Fact]
    public void Disposed_objects_refuse_access()
    {
        var m = MjModel.FromXmlString(BallXml, "ball.xml");
        var d = m.MakeData();
        d.Dispose();
        Assert.Throws<ObjectDisposedException>(() => d.Qpos.Length);
        Assert.Throws<ObjectDisposedException>(() => d.Step([], 1));
        m.Dispose();
        Assert.Throws<ObjectDisposedException>(() => m.Qpos0.Length);
        Assert.Throws<ObjectDisposedException>(() => m.MakeData());
    }

    [Fact]
    public void CopyFrom_clones_the_state()
    {
        using var m = MuJoCoModels.Load("hopper");
        using var a = m.MakeData();
        using var b = m.MakeData();
        a.Step([0.5, -0.5, 0.2], 20);
        b.CopyFrom(a);
        a.Step([0.1, 0.1, 0.1], 4);
        b.Step([0.1, 0.1, 0.1], 4);
        Assert.Equal(a.Qpos.ToArray(), b.Qpos.ToArray());
    }
}
