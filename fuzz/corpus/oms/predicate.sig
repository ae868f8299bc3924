{
  "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
  "verificationMaterial": {
    "publicKey": {
      "hint": "1a12077353f8931f648f786c078632d64cc0c33485d6145bcf2dbab000fbb873"
    },
    "tlogEntries": []
  },
  "dsseEnvelope": {
    "payload": "eyJfdHlwZSI6ICJodHRwczovL2luLXRvdG8uaW8vU3RhdGVtZW50L3YxIiwgInN1YmplY3QiOiBbeyJuYW1lIjogIm1vZGVsIiwgImRpZ2VzdCI6IHsic2hhMjU2IjogImU2MTIwYTk3OWY0NDBhOWFmYjJkOGQ4Y2ViYmM5ODA3ZDQ5M2EzNmRmMjNhMThmNjU2NTcwYzYxNTdkMDNhZjAifX1dLCAicHJlZGljYXRlVHlwZSI6ICJodHRwczovL21vZGVsX3NpZ25pbmcvRGlnZXN0cy92MC4xIiwgInByZWRpY2F0ZSI6IHsic2VyaWFsaXphdGlvbiI6IHsibWV0aG9kIjogImZpbGVzIiwgImlnbm9yZV9wYXRocyI6IFsiLmdpdCIsICIuZ2l0YXR0cmlidXRlcyIsICIuZ2l0aHViIiwgIi5naXRpZ25vcmUiXSwgImhhc2hfdHlwZSI6ICJzaGEyNTYiLCAiYWxsb3dfc3ltbGlua3MiOiBmYWxzZX0sICJyZXNvdXJjZXMiOiBbeyJuYW1lIjogImNvbmZpZy5qc29uIiwgImFsZ29yaXRobSI6ICJzaGEyNTYiLCAiZGlnZXN0IjogIjA5ZDM0M2MzN2RlMGJiYTE0M2I3ZmY0NWY4MmMwYWI5MzA4NTMxZGNjNzhiNTZiOGViNDBjNTkzOGM0YmU0MTgifSwgeyJuYW1lIjogInN1Yi92b2NhYi50eHQiLCAiYWxnb3JpdGhtIjogInNoYTI1NiIsICJkaWdlc3QiOiAiOTExMTY5ZGRhYWYxNDZhZmY1MzlmNThjMjZjNDg5YWYzYjg5MmRmZjBmZTI4M2MxYzI2NGM2NWFlNWFhNTlhMiJ9LCB7Im5hbWUiOiAid2VpZ2h0cy5iaW4iLCAiYWxnb3JpdGhtIjogInNoYTI1NiIsICJkaWdlc3QiOiAiZmRlYWI5YWNmMzcxMDM2MmJkMjY1OGNkYzlhMjllOGY5Yzc1N2ZjZjk4MTE2MDNhOGM0NDdjZDFkOTE1MTEwOCJ9XX19",
    "payloadType": "application/vnd.in-toto+json",
    "signatures": [
      {
        "sig": "MEUCIHwP/MJvM3NOk2kL2n0EsagEZsfHPOEqAF90h5gv2TwqAiEA9o/K19Mem17UDspH5z+eXZLKy1rdfDftv6RIrQZP1mM=",
        "keyid": ""
      }
    ]
  }
}
