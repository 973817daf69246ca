using System.Text.Json;
using System.Text.Json.Nodes;
using Optim4RL.Optimizers.Learned;

namespace Optim4RL.Tests.Optimizers;

/// <summary>The versioned JSON file for learned-optimizer meta-parameters φ.</summary>
public sealed class MetaParamsFileTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "optim4rl-metaparams-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static MetaParamLayout Layout(int hidden = 8)
    {
        var l = new MetaParamLayout();
        l.Add("rnn1/W_i", 1, 3 * hidden);
        l.Add("rnn1/W_h", hidden, 3 * hidden);
        l.Add("rnn1/b", 3 * hidden);
        l.Add("head1/w", hidden, 1);
        l.Add("head1/b", 1);
        l.Add("scalar");
        return l;
    }

    private static float[] Phi(int count, int seed)
    {
        var r = new Random(seed);
        var phi = new float[count];
        float[] special = [0f, -0f, float.Epsilon, -float.Epsilon, float.MaxValue, float.MinValue, 1.17549435E-38f,
            1.1754942E-38f /* subnormal */, 0.1f, 1f / 3f, 16777217f, 3.4028233E+38f, 1e-45f, 123456.789f];
        for (int i = 0; i < count; i++)
        {
            if (i < special.Length) { phi[i] = special[i]; continue; }
            float x;
            do x = BitConverter.Int32BitsToSingle(r.Next() ^ (r.Next(2) << 31)); while (!float.IsFinite(x));
            phi[i] = x;
        }
        return phi;
    }

    private string Saved(out float[] phi, IReadOnlyDictionary<string, string>? meta = null)
    {
        var layout = Layout();
        phi = Phi(layout.Count, 1);
        string path = Path.Combine(_dir, "sub", "phi.json");
        MetaParamsFile.Save(path, "Optim4RL", 8, layout, phi, meta);
        return path;
    }

    private string Edited(Action<JsonObject> edit)
    {
        string path = Saved(out _);
        var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(root);
        File.WriteAllText(path, root.ToJsonString());
        return path;
    }

    private static JsonObject Array(JsonObject root, string name) =>
        root["arrays"]!.AsArray().Select(a => a!.AsObject()).Single(a => (string)a["name"]! == name);

    private MetaParamsFileException LoadFails(string path, string optimizer = "Optim4RL", int hidden = 8) =>
        Assert.Throws<MetaParamsFileException>(() => MetaParamsFile.Load(path, optimizer, hidden, Layout(hidden)));

    private static void OneLine(Exception e) => Assert.DoesNotContain('\n', e.Message);

    [Fact]
    public void Round_trip_is_bit_exact()
    {
        var meta = new Dictionary<string, string> { ["config"] = "meta_rl_catch.json", ["iteration"] = "1000" };
        string path = Saved(out var phi, meta);
        var loaded = MetaParamsFile.Load(path, "Optim4RL", 8, Layout(), out var readMeta);
        OptimizerTestUtil.BitwiseEqual(phi, loaded);
        Assert.Equal(meta, readMeta);
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Fact]
    public void File_follows_the_documented_format()
    {
        string path = Saved(out var phi);
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        Assert.Equal("optim4rl.metaparams", root.GetProperty("format").GetString());
        Assert.Equal(1, root.GetProperty("version").GetInt32());
        Assert.Equal("Optim4RL", root.GetProperty("optimizer").GetString());
        Assert.Equal(8, root.GetProperty("hidden_size").GetInt32());
        Assert.Equal(phi.Length, root.GetProperty("count").GetInt32());
        var first = root.GetProperty("arrays")[0];
        Assert.Equal("rnn1/W_i", first.GetProperty("name").GetString());
        Assert.Equal([1, 24], first.GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()));
        Assert.Equal(24, first.GetProperty("data").GetArrayLength());
        Assert.Equal(0, root.GetProperty("arrays")[5].GetProperty("shape").GetArrayLength());
        Assert.False(root.TryGetProperty("meta", out _));
    }

    [Fact]
    public void Save_overwrites_an_existing_file_atomically()
    {
        string path = Saved(out _);
        var layout = Layout();
        var zeros = new float[layout.Count];
        MetaParamsFile.Save(path, "Optim4RL", 8, layout, zeros);
        Assert.All(MetaParamsFile.Load(path, "optim4rl", 8, layout), x => Assert.Equal(0f, x));
        Assert.Equal(["phi.json"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
    }

    [Fact]
    public void Save_rejects_bad_arguments()
    {
        var layout = Layout();
        string path = Path.Combine(_dir, "x.json");
        Assert.Throws<ArgumentException>(() => MetaParamsFile.Save(path, "Optim4RL", 8, layout, new float[layout.Count - 1]));
        var phi = new float[layout.Count];
        phi[30] = float.NaN;
        var ex = Assert.Throws<ArgumentException>(() => MetaParamsFile.Save(path, "Optim4RL", 8, layout, phi));
        Assert.Contains("'rnn1/W_h' value #6", ex.Message);
        Assert.False(File.Exists(path));
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Fact]
    public void Missing_file_names_path_and_how_to_make_one()
    {
        string path = Path.Combine(_dir, "nope.json");
        var ex = Assert.Throws<FileNotFoundException>(() => MetaParamsFile.Load(path, "Optim4RL", 8, Layout()));
        Assert.Contains(path, ex.Message);
        Assert.Contains("run a MetaA2C config first, point param_load_path to an existing file, or use a pretrained φ", ex.Message);
        OneLine(ex);
    }

    [Fact]
    public void Corrupt_json_is_reported()
    {
        string path = Saved(out _);
        var text = File.ReadAllText(path);
        File.WriteAllText(path, text[..(text.Length / 2)]);
        var ex = LoadFails(path);
        Assert.Contains("is not valid JSON", ex.Message);
        Assert.Contains(path, ex.Message);
        Assert.Equal(path, ex.FilePath);
        OneLine(ex);
    }

    [Fact]
    public void Other_format_is_reported()
    {
        var ex = LoadFails(Edited(r => r["format"] = "something.else"));
        Assert.Contains("is not an Optim4RL meta-parameter file (its format is 'something.else'", ex.Message);
        ex = LoadFails(Edited(r => r.Remove("format")));
        Assert.Contains("no \"format\" field", ex.Message);
        string path = Path.Combine(_dir, "array.json");
        File.WriteAllText(path, "[1, 2]");
        Assert.Contains("top level is a JSON Array", LoadFails(path).Message);
        OneLine(ex);
    }

    [Fact]
    public void Other_version_is_reported()
    {
        var ex = LoadFails(Edited(r => r["version"] = 2));
        Assert.Contains("has format version 2, but this build reads version 1", ex.Message);
        OneLine(ex);
        Assert.Contains("no integer \"version\"", LoadFails(Edited(r => r["version"] = "1")).Message);
    }

    [Fact]
    public void Other_optimizer_is_reported()
    {
        string path = Saved(out _);
        var ex = LoadFails(path, optimizer: "LinearOptim");
        Assert.Contains("holds meta-parameters for optimizer 'Optim4RL', but 'LinearOptim' was requested", ex.Message);
        OneLine(ex);
    }

    [Fact]
    public void Other_hidden_size_is_reported()
    {
        string path = Saved(out _);
        var ex = Assert.Throws<MetaParamsFileException>(() => MetaParamsFile.Load(path, "Optim4RL", 16, Layout(16)));
        Assert.Contains("was saved with hidden_size 8, but the 'Optim4RL' optimizer has hidden_size 16", ex.Message);
        OneLine(ex);
    }

    [Fact]
    public void Count_mismatch_is_reported()
    {
        var ex = LoadFails(Edited(r => r["count"] = 7));
        Assert.Contains($"declares 7 meta-parameters, but the 'Optim4RL' layout has {Layout().Count}", ex.Message);
    }

    [Fact]
    public void Missing_array_is_reported()
    {
        var ex = LoadFails(Edited(r => r["arrays"]!.AsArray().RemoveAt(3)));
        Assert.Contains("has no array 'head1/w'", ex.Message);
        OneLine(ex);
    }

    [Fact]
    public void Extra_and_duplicate_arrays_are_reported()
    {
        var ex = LoadFails(Edited(r => r["arrays"]!.AsArray().Add(new JsonObject { ["name"] = "rnn2/b", ["shape"] = new JsonArray(0), ["data"] = new JsonArray() })));
        Assert.Contains("has array 'rnn2/b', which the 'Optim4RL' layout does not have", ex.Message);
        ex = LoadFails(Edited(r => r["arrays"]!.AsArray().Add(Array(r, "scalar").DeepClone())));
        Assert.Contains("has two arrays named 'scalar'", ex.Message);
    }

    [Fact]
    public void Shape_mismatch_names_array_and_both_shapes()
    {
        var ex = LoadFails(Edited(r => Array(r, "rnn1/W_h")["shape"] = new JsonArray(24, 8)));
        Assert.Contains("array 'rnn1/W_h' has shape [24, 8], but [8, 24] is expected", ex.Message);
        OneLine(ex);
    }

    [Fact]
    public void Data_length_mismatch_is_reported()
    {
        var ex = LoadFails(Edited(r => Array(r, "rnn1/b")["data"]!.AsArray().RemoveAt(0)));
        Assert.Contains("array 'rnn1/b' has 23 values, but its shape [24] needs 24", ex.Message);
        OneLine(ex);
    }

    [Theory]
    [InlineData("1e39")]
    [InlineData("-1e300")]
    [InlineData("\"NaN\"")]
    [InlineData("\"Infinity\"")]
    [InlineData("null")]
    public void Non_finite_value_is_reported(string raw)
    {
        var ex = LoadFails(Edited(r => Array(r, "head1/b")["data"]!.AsArray()[0] = JsonNode.Parse(raw)));
        Assert.Contains($"array 'head1/b' value #0 ({raw}) is not a finite float32", ex.Message);
        OneLine(ex);
    }
}
