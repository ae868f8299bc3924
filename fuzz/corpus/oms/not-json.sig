{"mediaType": 
