using VirtSecScan.Core;

namespace VirtSecScan.Core.Tests;

/// <summary>ESXi password policy settings name passwords but hold no secret; real secrets stay hidden.</summary>
public sealed class SecretKeysPolicyTests
{
    [Theory]
    [InlineData("Security.PasswordQualityControl", false)]
    [InlineData("/Security/PasswordHistory", false)]
    [InlineData("security.passwordmaxdays", false)]
    [InlineData("RemoteDisplay.vnc.password", true)]
    [InlineData("snmp.community", true)]
    [InlineData("Security.PasswordSecretSalt", true)]
    public void PolicyKeysAreNotSecrets(string key, bool secret) => Assert.Equal(secret, SecretKeys.IsSecret(key));
}
